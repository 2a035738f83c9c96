"""Errors only the backfill raises. CLI-facing ones are CutoverErrors (one line, exit 2)."""

from __future__ import annotations

from cutover.errors import CutoverError


class SyncNeverRanError(CutoverError):
    """Backfill without live replication loses every change made during the copy."""

    def __init__(self, source: str, table: str) -> None:
        self.source = source
        self.table = table
        super().__init__(
            f"sync has never run for {source} (table {table}): start replication first "
            f"(`cutover sync` or the deployed stream Lambda), or pass --i-know-sync-is-off"
        )


class LeaseHeldError(CutoverError):
    """Another backfill holds the lease: a second run would double the load `--rate` caps (issue 19.8)."""

    def __init__(self, held: dict[str, str]) -> None:
        self.held = held
        super().__init__(
            f"another backfill holds the lease: run {held.get('run_id') or '(starting)'} "
            f"({held.get('where', '?')}, `{held.get('command') or 'cutover backfill'}`), taken {held.get('taken_at')}, "
            f"last heartbeat {held.get('heartbeat_at')}, expires {held.get('expires_at')} unless renewed: wait for it "
            "to finish (or stop it), or pass --steal-lease if you are sure it is dead"
        )


class LeaseLostError(CutoverError):
    """The lease expired and another run took it: this run stopped after its pages in flight."""

    def __init__(self, run_id: str) -> None:
        super().__init__(
            f"backfill run {run_id} lost its lease to another run (its heartbeat failed for longer than the lease "
            "lasts) and stopped, progress saved: see `cutover status`, and resume once the other run is done"
        )
