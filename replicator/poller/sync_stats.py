"""What a sync run did: counts, throughput and replication lag (apply time minus record creation)."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from replicator.record_apply import RecordOutcome, RecordResult

_SAMPLES = 100_000  # lag samples kept for percentiles; older ones are dropped on long runs


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]


@dataclass
class SyncResult:
    """What a sync run did, counted once per record that was applied and checkpointed.

    Record counts add up: `applied` (records done) = `changed` + `skipped` + `quarantined`.
    v3 writes are counted apart, because one record can write one key and tombstone another (an
    order moving to another user): `written`, `tombstoned` (source deletes and moves),
    `tombstoned_bad` (a live v3 item whose source turned bad, so v3 stops serving it) and
    `tombstoned_guard` (a bad item's key tombstoned where v3 held nothing live: an item bad from
    its first write, say; the write only guards the key against an older record).
    Records of a failed attempt are counted when the retry that gets them through is.
    """

    records_read: int = 0
    applied: int = 0
    changed: int = 0
    skipped: int = 0
    quarantined: int = 0
    written: int = 0
    tombstoned: int = 0
    tombstoned_bad: int = 0
    tombstoned_guard: int = 0
    failed_retried: int = 0
    batches: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    lag_max_ms: float | None = None
    gaps: list[dict[str, Any]] = field(default_factory=list)  # stream ranges lost before they were applied
    unfinished: list[dict[str, Any]] = field(default_factory=list)  # `once`: shards it could not drain, and why
    anomalies: list[dict[str, Any]] = field(default_factory=list)  # streams that contradict AWS's behaviour
    positions_refused: int = 0  # checkpoint writes refused: another consumer was further on
    consumer: str | None = None  # this process's id, recorded with every position it wrote
    _lags: deque[float] = field(default_factory=lambda: deque(maxlen=_SAMPLES), repr=False)

    def add_done(self, results: Iterable[RecordResult]) -> None:
        """Count records that were applied and checkpointed (their outcome, and their v3 writes)."""
        for result in results:
            self.applied += 1
            writes = result.applied
            self.written += writes.written
            if result.outcome is RecordOutcome.QUARANTINED:
                self.quarantined += 1
                self.tombstoned_bad += writes.tombstoned_live
                self.tombstoned_guard += writes.tombstoned - writes.tombstoned_live
            else:
                self.tombstoned += writes.tombstoned
                if result.outcome is RecordOutcome.SKIPPED:
                    self.skipped += 1
                else:
                    self.changed += 1

    def add_lag(self, lag_ms: float) -> None:
        self._lags.append(lag_ms)
        self.lag_max_ms = lag_ms if self.lag_max_ms is None else max(self.lag_max_ms, lag_ms)

    @property
    def duration_s(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def records_per_s(self) -> float:
        return self.applied / self.duration_s if self.duration_s > 0 else 0.0

    def lag_ms(self, fraction: float) -> float | None:
        return percentile(list(self._lags), fraction)

    def as_dict(self) -> dict[str, Any]:
        def rnd(v: float | None) -> float | None:
            return None if v is None else round(v, 1)

        return {
            "records_read": self.records_read,
            "applied": self.applied,
            "changed": self.changed,
            "skipped": self.skipped,
            "quarantined": self.quarantined,
            "written": self.written,
            "tombstoned": self.tombstoned,
            "tombstoned_bad": self.tombstoned_bad,
            "tombstoned_guard": self.tombstoned_guard,
            "failed_retried": self.failed_retried,
            "batches": self.batches,
            "tables": dict(self.tables),
            "duration_s": round(self.duration_s, 3),
            "records_per_s": round(self.records_per_s, 1),
            "gaps": list(self.gaps),
            "unfinished": list(self.unfinished),
            "anomalies": list(self.anomalies),
            "positions_refused": self.positions_refused,
            "consumer": self.consumer,
            "lag_ms": {"p50": rnd(self.lag_ms(0.5)), "p99": rnd(self.lag_ms(0.99)), "max": rnd(self.lag_max_ms)},
        }
