"""`cutover backfill --remote`: one execution of the deployed backfill state machine per table.

--rate stays what it means locally, the cap for the whole run: each segment Lambda gets
rate / (segments x tables) items/s (the state machine's per-segment `rate`). Progress comes from
the segment checkpoints the Lambdas write; the exit code from the executions' final status. A run
the CLI sees succeed is recorded like a local one (`BACKFILL_RUN`, what `cutover status` and the
flip gate read), so a detached run is recorded when it is re-attached to.

The run holds the backfill lease under its run id (`backfill.lease`), taken before any execution
starts: the CLI renews it while following and releases it once every execution closed; detached,
each segment invocation renews it, so a local run is refused while the executions run.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import UTC, datetime
from functools import partial
from typing import Any

import click

from backfill.checkpoint import COUNT_NAMES
from backfill.errors import SyncNeverRanError
from backfill.lease import REMOTE_TTL, BackfillLease, Holder
from backfill.runner import BackfillSummary, TableSummary
from backfill.runs import MAX_REMOTE_SEGMENTS
from cutover.clock import iso
from cutover.errors import ConfigError
from cutover.retry import call_with_retry
from cutover.state import BACKFILL_RUN, CheckpointStore, ReportStore
from cutover.tables import Tables
from cutover_cli._common import Runtime
from cutover_cli.app import EXIT_FINDING, EXIT_INTERRUPTED
from cutover_cli.progress.backfill import make_progress
from cutover_cli.remote import (
    Execution,
    check_run_id,
    detach_line,
    failure_line,
    follow,
    global_flags,
    new_run_id,
    start_or_attach,
    state_machine_arn,
)
from cutover_cli.remote_watch import BackfillWatch
from replicator.positions import PositionStore


def run_remote(
    rt: Runtime,
    sources: tuple[str, ...],
    segments: int,
    rate: float | None,
    run_id: str | None,
    *,
    require_sync: bool,
    bars: bool,
    command: str = "cutover backfill --remote",
    steal_lease: bool = False,
) -> None:
    if segments > MAX_REMOTE_SEGMENTS:
        raise ConfigError(f"--segments {segments}: a remote run takes at most {MAX_REMOTE_SEGMENTS} per table")
    run_id = check_run_id(run_id or new_run_id())
    tables = Tables.from_names(rt.settings.names)
    if require_sync:
        _require_sync(rt, tables, sources)
    sfn = rt.clients.client("stepfunctions")
    machine = state_machine_arn(rt.settings, rt.clients, "backfill")
    per_segment = None if rate is None else rate / (segments * len(sources))
    table = sources[0] if len(sources) == 1 else "all"
    lease = BackfillLease(
        CheckpointStore(rt.clients.dynamodb, tables.checkpoints),
        Holder(run_id, run_id, f"AWS, followed from {socket.gethostname()} pid {os.getpid()}", command),
        REMOTE_TTL,
    )
    fresh = lease.acquire(steal=steal_lease)  # before any execution starts: a refused run starts nothing
    try:
        executions = [
            start_or_attach(
                sfn,
                machine,
                f"{run_id}-{source}",
                {"table": source, "segments": segments, "run_id": run_id, "rate": per_segment},
                source,
            )
            for source in sources
        ]
    except BaseException:
        if fresh:  # else the run's executions hold it (a re-attach with other options was refused)
            lease.release()
        raise
    reattach = (
        f"cutover backfill --remote --run-id {run_id} --table {table} --segments {segments}"
        + (f" --rate {rate:g}" if rate else "")
        + f" {global_flags(rt.settings)}"
    )
    if not rt.as_json:
        how = ", ".join(f"{e.label} {'attached' if e.attached else 'started'}" for e in executions)
        limit = f"{per_segment:g} items/s per segment" if per_segment else "no rate limit"
        click.echo(f"backfill run {run_id} on AWS ({how}; {segments} segments, {limit})", err=True)
    with make_progress(bars) as progress:
        watch = BackfillWatch(rt.clients.dynamodb, tables, sources, segments, progress)
        beat = _Renewal(lease)

        def on_poll() -> None:
            watch()
            beat()

        try:
            follow(sfn, executions, on_poll)
        except KeyboardInterrupt:  # detached: the lease stays with the run, its Lambdas renew it
            click.echo(detach_line(executions, reattach), err=True)
            raise SystemExit(EXIT_INTERRUPTED) from None
    lease.release()  # every execution is closed
    ok = all(e.status == "SUCCEEDED" for e in executions)
    summary: dict[str, Any] = {
        "run_id": run_id,
        "status": "SUCCEEDED" if ok else "FAILED",
        "executions": [
            {
                "table": e.label,
                "execution_arn": e.arn,
                "status": e.status,
                "scanned": watch.scanned[e.label],
                "segments_done": watch.segments_done[e.label],
                **({} if e.status == "SUCCEEDED" else {"error": failure_line(sfn, e)}),
            }
            for e in executions
        ],
    }
    if ok:
        _record(rt, tables, run_id, segments, executions, watch)
    rt.emit(summary, lambda: _print(summary, segments))
    if not ok:
        if not rt.as_json:
            for e in summary["executions"]:
                if "error" in e:
                    click.echo(f"error: {e['error']}", err=True)
        raise SystemExit(EXIT_FINDING)


class _Renewal:
    """Renew the run's lease at most every TTL/3 from the follow loop (it polls every few seconds)."""

    def __init__(self, lease: BackfillLease) -> None:
        self._lease, self._last = lease, time.monotonic()

    def __call__(self) -> None:
        if time.monotonic() - self._last >= self._lease.ttl / 3:
            self._lease.acquire()  # re-taken if it lapsed; LeaseHeldError if another run took it
            self._last = time.monotonic()


def _record(
    rt: Runtime, tables: Tables, run_id: str, segments: int, executions: list[Execution], watch: BackfillWatch
) -> None:
    """Record the finished run as a local run records it (`BACKFILL_RUN`): the flip gate needs a
    complete backfill on record. Keyed by when the last execution stopped, so re-attaching to a
    finished run writes the same history item again, not a second one."""
    started = min(e.description.get("startDate") or datetime.now(UTC) for e in executions)
    stopped = max(e.description.get("stopDate") or datetime.now(UTC) for e in executions)
    seconds = (stopped - started).total_seconds()
    summary = BackfillSummary(run_id, iso(started), iso(stopped), segments, seconds=seconds)
    for source, progress in watch.progress.items():
        table = summary.tables[source] = TableSummary(seconds=seconds, segments_done=sum(p.done for p in progress))
        for name in COUNT_NAMES:
            setattr(table, name, sum(p.counts[name] for p in progress))
        summary.scanned_this_run += table.scanned
    summary.complete = all(t.segments_done == segments for t in summary.tables.values())
    reports = ReportStore(rt.clients.dynamodb, tables.reports)
    call_with_retry(lambda: reports.record(BACKFILL_RUN, summary.to_dict(), at=summary.finished_at, run_id=run_id))


def _require_sync(rt: Runtime, tables: Tables, sources: tuple[str, ...]) -> None:
    """The same refusal as a local run: backfill without replication loses the changes made meanwhile."""
    positions = PositionStore(
        CheckpointStore(rt.clients.dynamodb, tables.checkpoints),
        tables={s: tables.source_table(s) for s in sources},
    )
    for source in sources:
        if not call_with_retry(partial(positions.has_run, source)):
            raise SyncNeverRanError(source, tables.source_table(source))


def _print(summary: dict[str, Any], segments: int) -> None:
    for e in summary["executions"]:
        click.echo(
            f"backfill {summary['run_id']} {e['table']}: {e['status']}; {e['scanned']} items scanned, "
            f"{e['segments_done']}/{segments} segments done; execution {e['execution_arn']}"
        )
