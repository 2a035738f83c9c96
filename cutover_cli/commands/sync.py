"""`cutover sync [--once]`: apply the legacy streams to v3 with the Lambda handler's code."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from cutover_cli._common import Runtime, common_options
from cutover_cli.app import EXIT_FINDING
from cutover_cli.render.numbers import count, ms, rate

if TYPE_CHECKING:
    from replicator.poller.sync_stats import SyncResult

MAX_PAGES = 100_000  # replicator.poller.sync.SyncOptions.max_pages (not imported: it loads the SDK)


@click.command("sync")
@click.option("--once", is_flag=True, help="Drain what is in the streams now, then exit.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 1000),
    default=250,
    show_default=True,
    help="Records per GetRecords call (one checkpoint each).",
)
@click.option(
    "--max-pages",
    type=click.IntRange(1),
    default=MAX_PAGES,
    show_default=True,
    help="With --once: GetRecords calls per shard before it stops (resumable).",
)
@click.option("--quiet", is_flag=True, help="No progress line.")
@common_options
def command(rt: Runtime, once: bool, batch_size: int, max_pages: int, quiet: bool) -> None:
    """Read each source role's stream from the saved position and replicate it into the target (v3).

    Follows shard lineage, feeds the records to the replicator Lambda's own code in
    Lambda-shaped events and checkpoints after every batch in cutover's checkpoints table, so
    a restart resumes without skipping or double-applying. Without --once it runs until Ctrl-C.
    Reads every stream of each table (a disabled stream stays readable 24 h), oldest first. Exit 1
    if records were lost before they could be applied (a gap: trimmed, or an expired stream); the
    flip gate then refuses v3 until a full `cutover reconcile --repair` has run. --once always
    ends (at most --max-pages reads per shard listed at its start); exit 1 also names each shard
    it could not drain and why (a stream that misbehaves, or the page limit).
    """
    from cutover_cli.progress.sync import Progress as SyncStatus
    from replicator.poller.sync import SyncOptions, run_sync

    logging.getLogger("replicator").addHandler(logging.NullHandler())  # per-record warnings: see the summary
    stop = threading.Event()
    with _stop_on_signals(stop):
        result = run_sync(
            rt.settings,
            rt.clients,
            once=once,
            stop_event=stop,
            progress=SyncStatus(enabled=not (quiet or rt.as_json), once=once),
            options=SyncOptions(batch_size=batch_size, max_pages=max_pages),
        )
    rt.emit({"once": once, "interrupted": stop.is_set(), **result.as_dict()}, lambda: _human(result, stop.is_set()))
    if result.gaps or result.unfinished:
        raise SystemExit(EXIT_FINDING)


def _human(result: SyncResult, interrupted: bool) -> None:
    click.echo(summary(result, interrupted))
    if result.quarantined:
        click.echo("see `cutover quarantine list` for the quarantined items")
    for odd in result.anomalies:
        click.echo(f"WARNING: {odd['table']}: {odd['why']}", err=True)
    for shard in result.unfinished:
        click.echo(
            f"UNFINISHED: {shard['table']} shard {shard['shard']}: {shard['why']}. Its checkpoint is saved: run "
            "`cutover sync --once` again to continue, or see runbooks/sync.md if it repeats",
            err=True,
        )
    for gap in result.gaps:
        click.echo(
            f"GAP: {gap['table']} shard {gap['shard']} after sequence {gap['after_sequence']}: {gap['why']}; "
            "those changes never reached v3. Run `cutover reconcile --repair` (full, no --sample) once sync is "
            "caught up; `cutover flip v3` refuses until then (runbooks/sync.md)",
            err=True,
        )


def summary(result: SyncResult, interrupted: bool = False) -> str:
    """Three lines whose counts add up: records (applied = changed + skipped + quarantined), the
    v3 writes they made, and lag (`-` when no record carried a creation time). The rate is shown
    for a run of a second or more. "turned bad" counts live v3 items a bad change tombstoned; a key
    that held nothing live (an item bad from its first write) is not one (`tombstoned_guard` in --json)."""
    r = result
    lag = r.as_dict()["lag_ms"]
    return "\n".join(
        [
            f"sync {'stopped' if interrupted else 'done'}: {count(r.applied, 'record')} in {r.duration_s:.1f}s"
            f"{rate(r.applied, r.duration_s)}: {r.changed:,} changed v3, {r.skipped:,} already current, "
            f"{r.quarantined:,} quarantined; {r.failed_retried:,} retried",
            f"  v3 writes: {r.written:,} written, {r.tombstoned:,} tombstoned (source deletes and moves), "
            f"{r.tombstoned_bad:,} tombstoned (the item turned bad)",
            f"  lag p50 {ms(lag['p50'])}, p99 {ms(lag['p99'])}, max {ms(lag['max'])}",
        ]
    )


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """First Ctrl-C/SIGTERM stops after the current batch (checkpointed); a second one aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        click.echo("stopping after the current batch (Ctrl-C again to abort)...", err=True)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
