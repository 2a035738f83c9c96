"""The demo's migration steps: backfill alongside live sync, reconcile, then cut over and roll back.

Kept apart from `steps.py` (backend, seed, sync) so each file stays about one job.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from controlplane.evidence import Stores
from controlplane.flag import ReadSource
from controlplane.flipper import flip
from controlplane.gate import Thresholds
from cutover.errors import CutoverError
from cutover.state import CheckpointStore
from cutover_cli.demo.context import DemoContext
from cutover_cli.progress.backfill import make_progress
from replicator.poller.sync import run_sync
from replicator.positions import PositionStore


class DemoReconcileNotClean(CutoverError):
    """Reconcile found differences that are not quarantined items (a finding: exit 1)."""

    exit_code = 1


def wait_for_sync(ctx: DemoContext, timeout: float = 30.0) -> None:
    """Backfill refuses to run before sync has checkpointed: wait for the follower's first pass."""
    names = ctx.settings.names
    positions = PositionStore(CheckpointStore(ctx.clients.dynamodb, names.checkpoints_table))
    deadline = time.monotonic() + timeout
    while not all(positions.has_run(role) for role in names.roles):
        if time.monotonic() > deadline:
            raise CutoverError(f"sync did not checkpoint every legacy table within {timeout:.0f}s")
        time.sleep(0.2)


def backfill(ctx: DemoContext) -> None:
    """`cutover backfill`: copy the history the streams never saw, while sync and the writer run."""
    from backfill.runner import run_backfill

    wait_for_sync(ctx)
    summary = run_backfill(ctx.settings, ctx.clients, segments=4, workers=2, progress=make_progress(True))
    for table, counts in summary.tables.items():
        ctx.row(
            "backfill",
            f"{table}: scanned / written / skipped (newer in v3) / quarantined",
            f"{counts.scanned:,} / {counts.written:,} / {counts.skipped_newer:,} / {counts.quarantined:,}",
        )
    ctx.row("backfill", "throughput", f"{summary.items_per_second:,.0f} items/s over {summary.seconds:.1f}s")


def reconcile(ctx: DemoContext) -> None:
    """`cutover reconcile`: both directions; must be clean apart from quarantined items."""
    from reconciler.run import run_reconcile

    path = str(Path(tempfile.gettempdir()) / f"cutover-demo-reconcile-{ctx.settings.service}.json")
    report = run_reconcile(
        ctx.settings, ctx.clients, segments=4, workers=2, report_path=path, progress=make_progress(True)
    )
    c = report.counts
    ctx.row(
        "reconcile",
        "compared / missing / extra / different",
        f"{c['compared']:,} / {c['missing']:,} / {c['extra']:,} / {c['different']:,}",
    )
    ctx.row("reconcile", "quarantined (reported, not missing)", c["quarantined"])
    ctx.row(
        "reconcile",
        "verdict",
        "CLEAN" if report.clean else f"NOT CLEAN: {report.differences} difference(s), see {path}",
    )
    if not report.clean:
        raise DemoReconcileNotClean(f"reconcile found {report.differences} difference(s); details in {path}")


def flip_to(stores: Stores, target: ReadSource, thresholds: Thresholds) -> str:
    """`cutover flip TARGET` as the demo runs it; a refusal is an error naming every failed condition."""
    result = flip(stores, target, who="make demo", thresholds=thresholds, reason="demo cut-over")
    if result.refused:
        raise CutoverError(f"flip to {target.value} refused: " + "; ".join(result.verdict.failures))
    return f"read-source {result.old} -> {result.new}"


def cut_over(ctx: DemoContext) -> None:
    """`cutover flip shadow` → reads with zero mismatches → `flip v3` → reads → `flip legacy` (rollback)."""
    from cutover_cli.demo.flip_steps import run_cutover

    run_sync(ctx.settings, ctx.clients, once=True)  # fresh positions: the interlock checks lag
    typed = tuple(ctx.data.get("typed_users", ()))
    for step, outcome in run_cutover(ctx.settings, ctx.clients, lambda line: ctx.say(f"  {line}"), must_read=typed):
        ctx.row("cut-over", step, outcome)
