"""Typed errors for bad legacy input. Each one becomes a quarantine entry, never a crash.

`reason` is a stable machine code (used in quarantine and metrics); the message names the item.

Compatibility (issue 18): the family now lives in the foundation, `cutover.transform_errors`
(re-exported by the definition API, `cutover.migration`), and the seed transform's own three in
`migrations.seed.errors`. These are the same classes, so every `except TransformError` and every
reason code is unchanged.
"""

from __future__ import annotations

from cutover.transform_errors import (
    InvalidIndexKeyError,
    MissingImageError,
    MissingKeyError,
    ReservedAttributeError,
    TransformError,
    shown,
)
from migrations.seed.errors import InvalidEmailError, InvalidTimestampError, InvalidUserIdError

__all__ = [
    "InvalidEmailError",
    "InvalidIndexKeyError",
    "InvalidTimestampError",
    "InvalidUserIdError",
    "MissingImageError",
    "MissingKeyError",
    "ReservedAttributeError",
    "TransformError",
    "shown",
]
