"""`cutover flip legacy|shadow|v3`: move reads, guarded by evidence, serialized, recorded."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import click

from controlplane.flag import ReadSource
from controlplane.gate import POLICY
from cutover_cli._common import Runtime, common_options
from cutover_cli.app import EXIT_FINDING

if TYPE_CHECKING:
    from controlplane.flipper import FlipResult


@click.command("flip")
@click.argument("target", type=click.Choice([s.value for s in ReadSource]))
@click.option("--force", is_flag=True, help="Override a refused interlock (needs --reason; recorded).")
@click.option("--reason", default=None, help="Why: recorded with the flip (required with --force or a looser limit).")
@click.option(
    "--accept-quarantine",
    is_flag=True,
    help="Flip to v3 even though quarantined items are open (their count and keys are recorded).",
)
@click.option(
    "--max-age-hours",
    type=click.FloatRange(min=0),
    default=None,
    help=f"Oldest acceptable clean reconcile [policy {POLICY.max_age_hours:g}; higher counts as --force].",
)
@click.option(
    "--max-lag-seconds",
    type=click.FloatRange(min=0),
    default=None,
    help=f"Highest acceptable replication lag [policy {POLICY.max_lag_seconds:g}; higher counts as --force].",
)
@click.option(
    "--clock-skew-seconds",
    type=click.FloatRange(min=0),
    default=None,
    help=f"How far ahead another machine's timestamps may be [policy {POLICY.clock_skew_seconds:g}].",
)
@click.option(
    "--min-shadow-seconds",
    type=click.FloatRange(min=0),
    default=None,
    help=f"Least time on shadow before v3 [policy {POLICY.min_shadow_seconds:g}; lower counts as --force].",
)
@click.option(
    "--min-shadow-keys",
    type=click.IntRange(min=0),
    default=None,
    help=f"Least distinct keys compared per kind of read [policy {POLICY.min_shadow_keys:g}; lower counts as --force].",
)
@common_options
def command(
    rt: Runtime,
    target: str,
    force: bool,
    reason: str | None,
    accept_quarantine: bool,
    max_age_hours: float | None,
    max_lag_seconds: float | None,
    clock_skew_seconds: float | None,
    min_shadow_seconds: float | None,
    min_shadow_keys: int | None,
) -> None:
    """Set the read-source flag to TARGET and print the old and new value.

    `legacy` (rollback) and `shadow` are always allowed. `v3` is refused (exit 1, listing every
    failed condition) unless: reads are on `shadow` now, for long enough, with enough shadow
    comparisons on distinct keys per kind of read and no unexplained mismatch; the last reconcile is full, clean,
    recent, and started after the last backfill completed and while sync was caught up; no sync
    gap is unrepaired; the quarantine is empty (or --accept-quarantine, recorded with the keys);
    and replication lag over every shard is under the limit. Limits may be tightened here;
    loosening one is an override (needs --reason, recorded as forced). A flip is a
    compare-and-set: if another flip lands while this one is evaluated, this one fails (exit 2)
    and changes nothing. Lambdas pick the change up within their flag cache time (10 s default).
    """
    from controlplane.evidence import Stores
    from controlplane.flipper import flip, operator

    given = {"max_age_hours": max_age_hours, "max_lag_seconds": max_lag_seconds}
    given["clock_skew_seconds"] = clock_skew_seconds
    given.update(min_shadow_seconds=min_shadow_seconds, min_shadow_keys=min_shadow_keys)
    thresholds = dataclasses.replace(
        POLICY, accept_quarantine=accept_quarantine, **{k: v for k, v in given.items() if v is not None}
    )
    who = operator(rt.clients, rt.settings.is_local)
    result = flip(Stores.build(rt.settings, rt.clients), ReadSource(target), who, thresholds, force, reason)
    rt.emit(result.to_dict(), lambda: _print(result))
    if result.refused:
        raise SystemExit(EXIT_FINDING)


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
    if result.mirror_error:
        click.echo(
            f"warning: the SSM mirror was not updated ({result.mirror_error}); readers obey read-source", err=True
        )
    if result.forced and result.record and result.record.get("overridden"):
        click.echo("FORCED past the interlock (recorded): " + "; ".join(result.record["overridden"]))
