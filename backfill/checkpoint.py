"""A segment's durable progress: its Scan cursor, done flag and cumulative counts.

Stored in cutover's checkpoints table at pk `backfill#<source>#<segments>`, sk `<segment>`.
Cursor and counts are written in one item, after every write of the page completed, so a crash
anywhere re-does at most one page and never counts an item twice.

Progress is monotonic even with two processes on one segment (a retried Lambda, two CLI runs):
every save is conditional on the revision its writer loaded or last saved. A save that loses
(another process advanced the segment) writes nothing; its writer reloads and continues from the
stored state, so a finished segment never goes back to unfinished and counts never drop.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from cutover.clock import utc_now
from cutover.retry import call_with_retry
from cutover.state import CheckpointStore

COUNT_NAMES = ("scanned", "written", "already_filled", "skipped_newer", "quarantined", "not_migrated")


def checkpoint_pk(source: str, segments: int) -> str:
    return f"backfill#{source}#{segments}"


@dataclass
class SegmentProgress:
    run_id: str = ""
    cursor: dict[str, Any] | None = None
    done: bool = False
    pages: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_NAMES, 0))
    revision: int = 0  # of the stored checkpoint this progress was loaded from or saved as

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> SegmentProgress:
        if not doc:
            return cls()
        counts = dict.fromkeys(COUNT_NAMES, 0) | {k: int(v) for k, v in doc.get("counts", {}).items()}
        return cls(
            doc.get("run_id", ""),
            doc.get("cursor"),
            bool(doc.get("done")),
            int(doc.get("pages", 0)),
            counts,
            int(doc.get("revision", 0)),
        )


class SegmentCheckpoints:
    """Load/save/reset the progress of the segments of one (source, segments) layout."""

    def __init__(self, store: CheckpointStore, source: str, segments: int) -> None:
        self._store = store
        self.pk = checkpoint_pk(source, segments)

    def load(self, segment: int) -> SegmentProgress:
        return SegmentProgress.from_doc(call_with_retry(lambda: self._store.get(self.pk, str(segment))))

    def save(self, segment: int, progress: SegmentProgress) -> bool:
        """Store `progress` unless the segment's checkpoint changed since `progress.revision` (False then)."""
        doc = {**asdict(progress), "revision": progress.revision + 1, "updated": utc_now()}
        saved = call_with_retry(lambda: self._store.put_if_revision(self.pk, str(segment), doc, progress.revision))
        if saved:
            progress.revision += 1
        return saved

    def reset(self, segment: int) -> None:
        call_with_retry(lambda: self._store.delete(self.pk, str(segment)))
