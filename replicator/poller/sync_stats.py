"""What a sync run did: counts, throughput and replication lag (apply time minus record creation)."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from replicator.apply import ApplyResult

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
    """Counts are records delivered to the handler; `applied` excludes retries of failed records."""

    records_read: int = 0
    applied: int = 0
    written: int = 0
    tombstoned: int = 0
    skipped: int = 0
    quarantined: int = 0
    failed_retried: int = 0
    batches: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    lag_max_ms: float | None = None
    gaps: list[dict[str, Any]] = field(default_factory=list)  # stream ranges lost before they were applied
    positions_refused: int = 0  # checkpoint writes refused: another consumer was further on
    consumer: str | None = None  # this process's id, recorded with every position it wrote
    _lags: deque[float] = field(default_factory=lambda: deque(maxlen=_SAMPLES), repr=False)

    def add_totals(self, delta: ApplyResult) -> None:
        self.written += delta.written
        self.tombstoned += delta.tombstoned
        self.skipped += delta.skipped
        self.quarantined += delta.quarantined

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
            "written": self.written,
            "tombstoned": self.tombstoned,
            "skipped": self.skipped,
            "quarantined": self.quarantined,
            "failed_retried": self.failed_retried,
            "batches": self.batches,
            "tables": dict(self.tables),
            "duration_s": round(self.duration_s, 3),
            "records_per_s": round(self.records_per_s, 1),
            "gaps": list(self.gaps),
            "positions_refused": self.positions_refused,
            "consumer": self.consumer,
            "lag_ms": {"p50": rnd(self.lag_ms(0.5)), "p99": rnd(self.lag_ms(0.99)), "max": rnd(self.lag_max_ms)},
        }


def totals_delta(after: ApplyResult, before: ApplyResult) -> ApplyResult:
    return ApplyResult(
        written=after.written - before.written,
        skipped=after.skipped - before.skipped,
        tombstoned=after.tombstoned - before.tombstoned,
        quarantined=after.quarantined - before.quarantined,
    )


def snapshot(totals: ApplyResult | None) -> ApplyResult:
    if totals is None:
        return ApplyResult()
    return ApplyResult(totals.written, totals.skipped, totals.tombstoned, totals.quarantined)
