"""Where sync has got to, stored in cutover's checkpoints table so every command can read it.

Layout (JSON documents through `CheckpointStore`):
- pk `stream#<legacy table>`, sk `<shardId>`: `{sequence, closed, done, stream_arn, consumer,
  caught_up_at, applied_created_at, gap}`; `sequence` is the last record applied and checkpointed,
  the next read starts AFTER it. Writes only move forward: conditional on the stored (fixed-width)
  sequence and on `done` never going back to False, so a second consumer replaying an older range
  cannot move a position backwards. `consumer` names the process that wrote it.
- pk `sync-gap`, sk `<detected at>#<table>#<shard>`: a range of stream records that was trimmed or
  disappeared before sync applied it. The flip gate refuses until a full `reconcile --repair`
  started after the newest gap.
- pk `sync#<source>` (a source role), sk `meta`: the table's last pass, for `status`.
- pk `consumer#<legacy table>`, sk `<consumer>` (e.g. `lambda:<function>`): what the deployed
  replicator Lambda reports after each batch (`record_consumer`): the last record applied, its
  creation time, when it ran, and `caught_up_at` when the batch was not full (the event source
  had nothing more to give). Lambda events carry no shard id, so this is per consumer and
  stream, not per shard; writes only move forward (conditional on the record's stream version).

Lag (what the gate checks) is per shard, over every shard of every source: see `lag_seconds`.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from cutover.clock import iso, parse_iso
from cutover.migration_loader import load_migration
from cutover.state import CheckpointStore
from replicator.contract.versioning import stream_version

META = "meta"
CONSUMERS = "consumer"
GAPS = "sync-gap"
SEQ = "posSeq"  # top-level fixed-width sequence the conditional write compares
DONE = "posDone"  # top-level copy of `done` for the same condition
WIDTH = 40  # stream sequence numbers are at most 40 digits


def consumer_id() -> str:
    """Who is writing positions: host, process and a per-process nonce (two syncs never share one)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class PositionStore:
    """Stream positions per shard, gaps, and a per-source summary of the last sync pass."""

    def __init__(
        self,
        checkpoint_store: CheckpointStore,
        clock: Callable[[], datetime] | None = None,
        consumer: str | None = None,
        tables: Mapping[str, str] | None = None,
    ) -> None:
        self._store = checkpoint_store
        self._clock = clock or (lambda: datetime.now(UTC))
        self.consumer = consumer or consumer_id()
        self._tables = dict(tables or {})
        # the source roles to report on: the tables' roles, else the process's definition
        self._roles = tuple(self._tables) or load_migration().roles

    # --- shard positions (used by sync) ----------------------------------------------------
    def shard_positions(self, table: str) -> dict[str, dict[str, Any]]:
        return self._store.query(f"stream#{table}")

    def save_shard(
        self,
        table: str,
        shard: str,
        *,
        stream_arn: str,
        sequence: str | None,
        closed: bool,
        done: bool,
        caught_up_at: datetime | None = None,
        applied_created_at: datetime | None = None,
        gap: bool = False,
    ) -> bool:
        """Durably record that every record of `shard` up to `sequence` is applied.

        Returns False (nothing written) if the stored position is further on (a higher sequence,
        or already done while this says not done): positions never move backwards.
        """
        seq = (sequence or "").zfill(WIDTH)
        data = {
            "stream_arn": stream_arn,
            "sequence": sequence,
            "closed": closed,
            "done": done,
            "gap": gap,
            "consumer": self.consumer,
            "caught_up_at": None if caught_up_at is None else iso(caught_up_at),
            "applied_created_at": None if applied_created_at is None else iso(applied_created_at),
            "updated": iso(self._clock()),
        }
        return self._store.put_if(
            f"stream#{table}",
            shard,
            data,
            {SEQ: seq, DONE: done},
            f"attribute_not_exists({SEQ}) OR ({SEQ} <= :seq AND ({DONE} = :false OR :done = :true))",
            {":seq": seq, ":done": done, ":false": False, ":true": True},
        )

    # --- gaps ----------------------------------------------------------------------------------
    def record_gap(self, table: str, stream_arn: str, shard: str, after: str | None, why: str) -> dict[str, Any]:
        at = iso(self._clock())
        gap = {"table": table, "stream_arn": stream_arn, "shard": shard, "after_sequence": after, "why": why}
        gap.update(detected_at=at, consumer=self.consumer)
        self._store.put(GAPS, f"{at}#{table}#{shard}", gap)
        return gap

    def gaps(self) -> list[dict[str, Any]]:
        """Every gap ever detected, oldest first."""
        return [doc for _, doc in sorted(self._store.query(GAPS).items())]

    # --- the per-source summary --------------------------------------------------------------
    def save_meta(self, source: str, data: dict[str, Any]) -> None:
        """Replace the source's last-pass document (sync holds the whole document in memory)."""
        self._store.put(f"sync#{source}", META, {**data, "source": source, "updated": iso(self._clock())})

    def meta(self, source: str) -> dict[str, Any] | None:
        return self._store.get(f"sync#{source}", META)

    # --- the deployed Lambda's reports ------------------------------------------------------
    def record_consumer(
        self,
        table: str,
        *,
        stream_arn: str,
        sequence: str,
        applied_created_at: datetime | None,
        caught_up: bool,
    ) -> bool:
        """One small conditional write per stream per invocation. False if a report of a later
        record is already stored (a retry or an older concurrent batch never moves it back)."""
        at = self._clock()
        data = {
            "stream_arn": stream_arn,
            "sequence": sequence,
            "consumer": self.consumer,
            "applied_created_at": None if applied_created_at is None else iso(applied_created_at),
            "caught_up_at": iso(at) if caught_up else None,
            "updated": iso(at),
        }
        version = stream_version(stream_arn, sequence)
        return self._store.put_if(
            f"{CONSUMERS}#{table}",
            self.consumer,
            data,
            {SEQ: version},
            f"attribute_not_exists({SEQ}) OR {SEQ} <= :seq",
            {":seq": version},
        )

    def consumers(self, table: str) -> dict[str, dict[str, Any]]:
        """Every consumer that reported on `table` (the deployed Lambda), by consumer id."""
        return self._store.query(f"{CONSUMERS}#{table}")

    # --- the fixed read interface ------------------------------------------------------------
    def has_run(self, source: str) -> bool:
        """True once sync has completed a pass or batch over that legacy table, or the deployed
        Lambda has reported applying a batch of it."""
        table = self._tables.get(source) or (self.meta(source) or {}).get("table")
        return self.meta(source) is not None or bool(table and self.consumers(table))

    def source_lags(self) -> dict[str, float | None]:
        """Per source, seconds v3 may be behind now; None: never synced (no shard position).

        A shard is complete up to the later of when it was last seen caught up and the creation
        time of its newest applied record. A source's lag is now minus the EARLIEST such mark over
        its shards that are not done (every stream, every shard), or minus the newest mark if all
        are done. It keeps growing while sync is stopped, which is the truth.
        """
        out: dict[str, float | None] = {}
        now = self._clock()
        for source in self._roles:
            table = self._tables.get(source) or (self.meta(source) or {}).get("table")
            docs = list(self.shard_positions(table).values()) if table else []
            marks = [(d.get("done"), self._mark(d)) for d in docs if not d.get("gap")]
            open_marks = [m for done, m in marks if not done]
            if open_marks:
                mark = None if None in open_marks else min(open_marks)  # type: ignore[type-var]
            else:
                mark = max((m for _, m in marks if m), default=None)
            # Every consumer applies every record (the version guard makes that safe), so v3 is
            # as current as the most current consumer: the deployed Lambda or `cutover sync`.
            reported = [self._mark(d) for d in (self.consumers(table).values() if table else [])]
            mark = max((m for m in (mark, *reported) if m is not None), default=None)
            out[source] = None if mark is None else max(0.0, (now - mark).total_seconds())
        return out

    def lag_seconds(self) -> float | None:
        """The worst lag over every source; None if any source has never synced (unknown is not small)."""
        lags = self.source_lags()
        return None if None in lags.values() else max(lags.values(), default=None)  # type: ignore[type-var]

    @staticmethod
    def _mark(doc: dict[str, Any]) -> datetime | None:
        times = [t for t in (parse_iso(doc.get("caught_up_at")), parse_iso(doc.get("applied_created_at"))) if t]
        return max(times) if times else None

    def summary(self) -> list[dict[str, Any]]:
        """Per legacy table and consumer: `cutover sync`'s last pass (shards, last sequence) and
        each deployed Lambda's last report, with the source's lag and when each was updated."""
        lags = self.source_lags()
        rows = []
        for source in self._roles:
            doc = self.meta(source)
            lag = None if lags.get(source) is None else round(lags[source], 3)  # type: ignore[arg-type]
            if doc is not None:
                rows.append(
                    {
                        "source": source,
                        "consumer": "sync",
                        "table": doc.get("table"),
                        "stream_arn": doc.get("stream_arn"),
                        "shards": doc.get("shards", 0),
                        "shards_done": doc.get("shards_done", 0),
                        "last_sequence": doc.get("last_sequence"),
                        "last_record_created_at": doc.get("last_record_created_at"),
                        "lag_seconds": lag,
                        "caught_up_at": doc.get("caught_up_at"),
                        "stuck": doc.get("stuck", []),
                        "anomalies": doc.get("anomalies", []),
                        "updated": doc.get("updated"),
                    }
                )
            table = self._tables.get(source) or (doc or {}).get("table")
            for consumer, report in sorted((self.consumers(table) if table else {}).items()):
                rows.append(
                    {
                        "source": source,
                        "consumer": consumer,
                        "table": table,
                        "stream_arn": report.get("stream_arn"),
                        "last_sequence": report.get("sequence"),
                        "last_record_created_at": report.get("applied_created_at"),
                        "lag_seconds": lag,
                        "caught_up_at": report.get("caught_up_at"),
                        "updated": report.get("updated"),
                    }
                )
        return rows
