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
