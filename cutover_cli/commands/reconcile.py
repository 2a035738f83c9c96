"""`cutover reconcile`: prove v3 == transform(legacy) item for item; exit 1 if anything differs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cutover.errors import ConfigError
from cutover.tables import require_tables
from cutover_cli._common import Runtime, common_options, writable_file
from cutover_cli.app import EXIT_FINDING

if TYPE_CHECKING:
    from reconciler.report import ReconcileReport

DEFAULT_REPORT = "reconcile-report.json"  # reconciler.run.DEFAULT_REPORT (not imported: it loads the SDK)
DEFAULT_SEGMENTS = 8  # reconciler.partials.DEFAULT_SEGMENTS (likewise), the machine's default too


@click.command("reconcile")
@click.option(
    "--segments",
    type=click.IntRange(min=1),
    default=DEFAULT_SEGMENTS,
    show_default=True,
    help="Parallel Scan segments per table.",
)
@click.option("--workers", type=click.IntRange(min=1), default=4, show_default=True, help="Segments checked at once.")
@click.option(
    "--sample",
    type=click.FloatRange(min=0, max=1, min_open=True),
    default=None,
    help="Check only this fraction of items (hash of the source key), e.g. 0.05 for a spot check.",
)
@click.option(
    "--repair", is_flag=True, help="Fix each difference through the version-guarded write path, then re-check it."
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, writable=True),
    callback=lambda ctx, param, value: writable_file(value),
    default=DEFAULT_REPORT,
    show_default=True,
    help="Where to write every difference as JSON.",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option(
    "--remote",
    is_flag=True,
    help="Run on AWS: start the deployed reconcile state machine and follow it; the differences are "
    "written to --report when it finishes. --workers does not apply.",
)
@click.option(
    "--run-id", default=None, help="With --remote: the run to start, or re-attach to / resume (default: new)."
)
@common_options
def command(
    rt: Runtime,
    segments: int,
    workers: int,
    sample: float | None,
    repair: bool,
    report_path: str,
    quiet: bool,
    remote: bool,
    run_id: str | None,
) -> None:
    """Compare the legacy tables and the target (v3) in both directions across their different
    key schemas.

    Legacy -> v3: each legacy item's transform (every item it becomes) must be in v3 (ignoring
    `_` attributes) or the item must be in quarantine. v3 -> legacy: each live v3 item's source
    (its `_source`) must still exist and map to that key (catches zombies after deletes and stale
    locations after key moves).
    Suspected differences are re-read with consistent reads before they are reported.
    Exit 0 clean, 1 differences remain, 2 error.
    """
    from cutover_cli.progress.backfill import make_progress
    from cutover_cli.remote_reconcile import run_remote
    from reconciler.run import run_reconcile

    n = rt.settings.names
    own = [spec.name for spec in n.own_specs()]
    require_tables(rt.clients.dynamodb, [*n.source_tables().values(), n.v3_table, *own], rt.clients.region)
    if remote or run_id:
        if not remote:
            raise ConfigError("--run-id goes with --remote (a local run makes its own): add --remote or drop --run-id")
        report, arn = run_remote(rt, segments, sample, repair, run_id, report_path, bars=not (quiet or rt.as_json))
        rt.emit({**report.to_dict(), "execution_arn": arn, "status": "SUCCEEDED"}, lambda: _print(report))
        if not report.clean:
            raise SystemExit(EXIT_FINDING)
        return
    report = run_reconcile(
        rt.settings,
        rt.clients,
        segments=segments,
        workers=workers,
        sample=sample,
        repair=repair,
        report_path=report_path,
        progress=make_progress(not (quiet or rt.as_json)),
    )
    rt.emit(report.to_dict(), lambda: _print(report))
    if not report.clean:
        raise SystemExit(EXIT_FINDING)


def _print(report: ReconcileReport) -> None:
    from cutover_cli.render.reconcile import render

    click.echo("\n".join(render(report)))
