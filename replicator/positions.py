"""Where sync has got to, stored in cutover's checkpoints table so every command can read it.

Layout (JSON documents through `CheckpointStore`):
- pk `stream#<legacy table>`, sk `<shardId>`: `{sequence, closed, done, stream_arn}`; `sequence`
  is the last record applied and checkpointed, the next read starts AFTER it.
- pk `sync#<source>` (users|orders), sk `meta`: the table's last pass: when, the newest applied
  record's creation time, its lag, when every shard was last seen at its end (`caught_up_at`).

`status`, backfill's "has sync ever run" check and the flip interlock read this through
`PositionStore` rather than knowing the layout.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cutover.clock import iso, parse_iso
from cutover.names import SOURCES
from cutover.state import CheckpointStore

META = "meta"


class PositionStore:
    """Stream positions per shard and a per-source summary of the last sync pass."""

    def __init__(self, checkpoint_store: CheckpointStore, clock: Callable[[], datetime] | None = None) -> None:
        self._store = checkpoint_store
        self._clock = clock or (lambda: datetime.now(UTC))

    # --- shard positions (used by sync) ----------------------------------------------------
    def shard_positions(self, table: str) -> dict[str, dict[str, Any]]:
        return self._store.query(f"stream#{table}")

    def save_shard(
        self, table: str, shard: str, *, stream_arn: str, sequence: str | None, closed: bool, done: bool
    ) -> None:
        """Durably record that every record of `shard` up to `sequence` is applied."""
        self._store.put(
            f"stream#{table}",
            shard,
            {
                "stream_arn": stream_arn,
                "sequence": sequence,
                "closed": closed,
                "done": done,
                "updated": iso(self._clock()),
            },
        )

    def save_meta(self, source: str, data: dict[str, Any]) -> None:
        """Replace the source's last-pass document (sync holds the whole document in memory)."""
        self._store.put(f"sync#{source}", META, {**data, "source": source, "updated": iso(self._clock())})

    def meta(self, source: str) -> dict[str, Any] | None:
        return self._store.get(f"sync#{source}", META)

    # --- the fixed read interface ------------------------------------------------------------
    def has_run(self, source: str) -> bool:
        """True once sync has completed at least one pass or batch over that legacy table."""
        return self.meta(source) is not None

    def lag_seconds(self) -> float | None:
        """How far behind v3 may be, in seconds, as of now; None if sync never ran.

        Per source, v3 is known complete up to the later of `caught_up_at` (every shard read to
        its end) and the newest applied record's creation time. The lag is now minus the
        earliest of those: it keeps growing while sync is stopped, which is the truth.
        """
        marks = []
        for source in SOURCES:
            doc = self.meta(source)
            if doc is None:
                continue
            times = [t for t in (parse_iso(doc.get("caught_up_at")), parse_iso(doc.get("last_record_created_at"))) if t]
            if times:
                marks.append(max(times))
        if not marks:
            return None
        return max(0.0, (self._clock() - min(marks)).total_seconds())

    def summary(self) -> list[dict[str, Any]]:
        """Per legacy table: shards, last sequence, measured lag and when it was updated."""
        rows = []
        for source in SOURCES:
            doc = self.meta(source)
            if doc is None:
                continue
            rows.append(
                {
                    "source": source,
                    "table": doc.get("table"),
                    "stream_arn": doc.get("stream_arn"),
                    "shards": doc.get("shards", 0),
                    "shards_done": doc.get("shards_done", 0),
                    "last_sequence": doc.get("last_sequence"),
                    "last_record_created_at": doc.get("last_record_created_at"),
                    "lag_seconds": doc.get("lag_seconds"),
                    "caught_up_at": doc.get("caught_up_at"),
                    "updated": doc.get("updated"),
                }
            )
        return rows
