"""Structured logs and metrics for the read path (Powertools Logger + Metrics, namespace `cutover`).

`counts` mirrors every metric in memory so in-process callers (the demo, tests) can assert on
them without parsing EMF output. With `metrics=None` nothing is emitted as EMF (local server).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from cutover.metrics import (  # noqa: F401 - the read path's metric names, re-exported for its modules
    BACKEND_UNAVAILABLE,
    FLAG_INVALID,
    FLAG_UNREADABLE,
    NAMESPACE,
    SHADOW_EMAIL_IMPROVEMENT,
    SHADOW_ERROR,
    SHADOW_MISMATCH,
    SHADOW_RECORD_FAILED,
    SHADOW_SKIPPED,
    SHADOW_UNCOMPARABLE,
    V3_ERROR,
    V3_FALLBACK,
    V3_READ_THROUGH,
)


class Telemetry:
    def __init__(self, logger: Logger, metrics: Metrics | None = None) -> None:
        self.logger = logger
        self.metrics = metrics
        self.counts: Counter[str] = Counter()

    def count(self, metric: str) -> None:
        self.counts[metric] += 1
        if self.metrics is not None:
            self.metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)

    def event(self, metric: str, message: str, level: str = "warning", **fields: Any) -> None:
        """Count `metric` and log one structured line with `fields` (keys, differing attributes...)."""
        self.count(metric)
        getattr(self.logger, level)(message, extra={"metric": metric, **fields})
