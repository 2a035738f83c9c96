"""Compatibility: the seed's timestamp rules now live in `migrations.seed.timestamps` (issue 18)."""

from __future__ import annotations

from migrations.seed.timestamps import MILLIS_THRESHOLD, UnparseableTimestamp, normalise_timestamp

__all__ = ["MILLIS_THRESHOLD", "UnparseableTimestamp", "normalise_timestamp"]
