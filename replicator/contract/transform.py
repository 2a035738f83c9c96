"""Compatibility: the seed transform now lives in `migrations.seed.transform` (issue 18).

The engine still calls it by these names until it reads the migration definition instead
(`cutover.migration_loader.load_migration`); then this module goes. Importing it here is the one
place an engine package reaches into `migrations/` (an `ignore_imports` line in pyproject.toml).
"""

from __future__ import annotations

from migrations.seed.transform import (
    ORDER_PREFIX,
    PROFILE,
    SOURCE_KEY,
    Item,
    V3Key,
    source_key,
    transform,
    v3_keys,
)

__all__ = ["ORDER_PREFIX", "PROFILE", "SOURCE_KEY", "Item", "V3Key", "source_key", "transform", "v3_keys"]
