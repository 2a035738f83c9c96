"""`cutover flip legacy|shadow|v3`: move reads, guarded by evidence, recorded."""

from __future__ import annotations

import click

from controlplane.evidence import Stores
from controlplane.flag import ReadSource
from controlplane.flipper import FlipResult, flip, operator
from controlplane.gate import Thresholds
from cutover_cli._common import Runtime, common_options


@click.command("flip")
@click.argument("target", type=click.Choice([s.value for s in ReadSource]))
@click.option("--force", is_flag=True, help="Override a refused interlock (needs --reason; recorded).")
@click.option("--reason", default=None, help="Why: recorded with the flip (required with --force).")
@click.option("--accept-quarantine", is_flag=True, help="Flip to v3 even though quarantined items are open.")
@click.option(
    "--max-age-hours",
    type=click.FloatRange(min=0),
    default=24.0,
    show_default=True,
    help="Newest acceptable age of the last clean reconcile.",
)
@click.option(
    "--max-lag-seconds",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Highest acceptable replication lag.",
)
@common_options
def command(
    rt: Runtime,
    target: str,
    force: bool,
    reason: str | None,
    accept_quarantine: bool,
    max_age_hours: float,
    max_lag_seconds: float,
) -> None:
    """Set the read-source flag to TARGET and print the old and new value.

    `legacy` (rollback) and `shadow` are always allowed. `v3` is refused (exit 1, listing every
    failed condition) unless the last reconcile is clean and recent, the quarantine is empty
    (or --accept-quarantine) and replication lag is under the limit. Lambdas pick the change up
    within their flag cache time (10 s by default).
    """
    thresholds = Thresholds(max_age_hours, max_lag_seconds, accept_quarantine)
    who = operator(rt.clients, rt.settings.is_local)
    result = flip(Stores.build(rt.settings, rt.clients), ReadSource(target), who, thresholds, force, reason)
    rt.emit(result.to_dict(), lambda: _print(result))
    if result.refused:
        raise SystemExit(1)


def _print(result: FlipResult) -> None:
    if result.refused:
        click.echo(f"refused: read-source stays {result.old}; flipping to {result.new} needs:", err=True)
        for failure in result.verdict.failures:
            click.echo(f"  - {failure}", err=True)
        click.echo("Fix the above, or override with --force --reason TEXT (recorded).", err=True)
        return
    if not result.changed:
        click.echo(f"read-source is already {result.new}: nothing changed")
        return
    click.echo(f"read-source: {result.old} -> {result.new}")
    if result.forced and result.verdict.failures:
        click.echo("FORCED past the interlock (recorded): " + "; ".join(result.verdict.failures))
