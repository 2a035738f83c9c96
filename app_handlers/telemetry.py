"""Structured logs and metrics for the read path (Powertools Logger + Metrics, namespace `cutover`).

`counts` mirrors every metric in memory so in-process callers (the demo, tests) can assert on
them without parsing EMF output. With `metrics=None` nothing is emitted as EMF (local server).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = "cutover"
SHADOW_MISMATCH = "ShadowMismatch"
SHADOW_ERROR = "ShadowV3Error"
SHADOW_UNCOMPARABLE = "ShadowUncomparable"
SHADOW_SKIPPED = "ShadowSkipped"  # every shadow slot busy (v3 slow or hanging): not compared
SHADOW_EMAIL_IMPROVEMENT = "ShadowEmailImprovement"  # v3 finds a normalised e-mail legacy's index misses
V3_READ_THROUGH = "V3ReadThrough"  # v3 hit on a key written recently through the API: legacy answered
V3_FALLBACK = "V3Fallback"
V3_ERROR = "V3Error"
FLAG_INVALID = "FlagInvalid"  # the flag is missing or holds an unknown value (operator fix)
FLAG_UNREADABLE = "FlagUnreadable"  # SSM could not be reached or refused the read (not the flag's fault)
BACKEND_UNAVAILABLE = "BackendUnavailable"  # a table read/write failed: the request got 503


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
