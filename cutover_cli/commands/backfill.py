"""`cutover backfill`: copy the legacy tables into the target, resumably, without overwriting replication."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cutover.errors import ConfigError
from cutover.tables import parse_tables, require_tables
from cutover_cli._common import Runtime, announce_interrupt, common_options

if TYPE_CHECKING:
    from backfill.runner import BackfillSummary

DEFAULT_SEGMENTS = 8  # backfill.runs.DEFAULT_SEGMENTS (not imported: it loads the SDK), the machine's too


@click.command("backfill")
@click.option(
    "--table",
    "table",
    metavar="ROLE|all",
    default="all",
    show_default=True,
    help="Which legacy table to copy: a source role of the migration, or all.",
)
@click.option(
    "--segments",
    type=click.IntRange(min=1),
    default=DEFAULT_SEGMENTS,
    show_default=True,
    help="Parallel Scan segments per table (changing it starts a new set of cursors).",
)
@click.option("--workers", type=click.IntRange(min=1), default=4, show_default=True, help="Segments scanned at once.")
@click.option(
    "--write-threads",
    type=click.IntRange(min=1),
    default=32,
    show_default=True,
    help="Concurrent conditional writes shared by all workers.",
)
@click.option(
    "--segment",
    type=click.IntRange(min=0),
    default=None,
    help="Run only segment K of --segments N (the unit a Lambda runs).",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Cap on items per second for the whole run, so production traffic keeps its capacity.",
)
@click.option(
    "--restart", is_flag=True, help="Discard saved cursors and copy from the start (safe: fill never overwrites)."
)
@click.option(
    "--i-know-sync-is-off",
    "sync_off",
    is_flag=True,
    help="Run even though replication has never run (changes during the copy will be lost).",
)
@click.option(
    "--page-size",
    type=click.IntRange(min=1),
    default=None,
    help="Scan Limit per page (default: DynamoDB's 1 MB pages). Smaller pages checkpoint more often.",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option(
    "--remote",
    is_flag=True,
    help="Run on AWS: start the deployed backfill state machine (one execution per table) and follow it. "
    "--rate is then split evenly over the segments; --workers/--write-threads/--page-size do not apply.",
)
@click.option(
    "--run-id", default=None, help="With --remote: the run to start, or re-attach to / resume (default: new)."
)
@click.option(
    "--steal-lease",
    is_flag=True,
    help="Take the backfill lease from the run holding it. Only if you are sure that run is dead (killed, "
    "its executions stopped): two runs at once double the load --rate caps.",
)
@common_options
def command(
    rt: Runtime,
    table: str,
    segments: int,
    workers: int,
    write_threads: int,
    segment: int | None,
    rate: float | None,
    restart: bool,
    sync_off: bool,
    page_size: int | None,
    quiet: bool,
    remote: bool,
    run_id: str | None,
    steal_lease: bool,
) -> None:
    """Copy every legacy item into the target table (v3) where replication has not written it yet.

    Each segment's Scan cursor is checkpointed after its page is written, so running the same
    command again after Ctrl-C or a crash continues where it stopped; finished segments are
    skipped. Refuses to start (exit 2) if sync has never run for a table, or while another
    backfill (local or --remote) holds the lease. The finished run is recorded and shown by
    `cutover status`.
    """
    from backfill.runner import run_backfill
    from cutover_cli.progress.backfill import make_progress, printer
    from cutover_cli.remote_backfill import run_remote

    n = rt.settings.names
    sources = parse_tables(table, n.roles)
    needed = [n.source_table(s) for s in sources] + [n.v3_table] + [spec.name for spec in n.own_specs()]
    require_tables(rt.clients.dynamodb, needed, rt.clients.region)
    # what a refused second run is told this run is (the lease's holder)
    said = f"cutover backfill --table {table} --segments {segments}" + (f" --rate {rate:g}" if rate else "")
    if remote or run_id:
        if not remote or restart or segment is not None:
            raise ConfigError(
                "--run-id goes with --remote, and --restart/--segment are local-only: "
                "drop --restart/--segment to run on AWS, or --remote/--run-id to run here"
            )
        run_remote(
            rt,
            sources,
            segments,
            rate,
            run_id,
            require_sync=not sync_off,
            bars=not (quiet or rt.as_json),
            command=f"{said} --remote",
            steal_lease=steal_lease,
        )
        return
    progress = make_progress(not (quiet or rt.as_json))
    say = printer(progress)
    with announce_interrupt("finishing the pages in flight and saving each segment's cursor", say):
        summary = run_backfill(
            rt.settings,
            rt.clients,
            tables=sources,
            segments=segments,
            workers=workers,
            write_threads=write_threads,
            rate=rate,
            restart=restart,
            require_sync=not sync_off,
            progress=progress,
            only_segment=segment,
            page_size=page_size,
            announce=None if rt.as_json else say,
            command=said + ("" if segment is None else f" --segment {segment}"),
            steal_lease=steal_lease,
        )
    rt.emit(summary.to_dict(), lambda: _print(summary))


def _print(summary: BackfillSummary) -> None:
    state = "complete" if summary.complete else "incomplete (run again to resume)"
    click.echo(
        f"backfill {summary.run_id}: {state}; {summary.scanned_this_run} items scanned this run "
        f"in {summary.seconds:.1f}s ({summary.items_per_second:,.0f} items/s)"
    )
    width = max([8, *(len(name) for name in summary.tables)])
    click.echo(
        f"{'table':<{width}} {'scanned':>9} {'written':>9} {'refilled':>9} {'skipped':>9} {'quarantined':>12} "
        f"{'segments':>9}"
    )
    for name, t in summary.tables.items():
        click.echo(
            f"{name:<{width}} {t.scanned:>9} {t.written:>9} {t.already_filled:>9} {t.skipped_newer:>9} "
            f"{t.quarantined:>12} "
            f"{t.segments_done:>4}/{summary.segments}"
        )
