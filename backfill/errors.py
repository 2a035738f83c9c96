"""Errors the backfill and reconciler raise. CLI-facing ones are CutoverErrors (one line, exit 2)."""
from __future__ import annotations

from cutover.errors import ConfigError, CutoverError


class SyncNeverRanError(CutoverError):
    """Backfill without live replication loses every change made during the copy."""

    def __init__(self, source: str, table: str) -> None:
        self.source = source
        self.table = table
        super().__init__(
            f"sync has never run for {source} (table {table}): start replication first "
            f"(`cutover sync` or the deployed stream Lambda), or pass --i-know-sync-is-off"
        )


class InvalidSegmentError(ConfigError):
    """A segment number outside 0..segments-1, or a non-positive segment count."""

    def __init__(self, segment: int | None, segments: int) -> None:
        if segments < 1:
            detail = f"--segments must be at least 1, got {segments}"
        else:
            detail = f"--segment {segment} is outside 0..{segments - 1} for --segments {segments}"
        super().__init__(f"{detail}: pick a segment number below the segment count")


class UnknownTableError(ConfigError):
    def __init__(self, table: str) -> None:
        super().__init__(f"unknown table {table!r}: use users, orders or all")
