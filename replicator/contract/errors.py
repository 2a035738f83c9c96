"""Typed errors for bad legacy input. Each one becomes a quarantine entry, never a crash.

`reason` is a stable machine code (used in quarantine and metrics); the message names the item.
"""

from __future__ import annotations

from decimal import Decimal

_MAX = 60


def shown(value: object) -> str:
    """A legacy value as a person reads it in a message: `number 7`, `string " "`, `nothing`;
    never a Python repr such as `Decimal('7')`. Long values are cut."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, (int, float, Decimal)):
        return f"number {value}"
    if isinstance(value, str):
        text = value if len(value) <= _MAX else value[:_MAX] + "..."
        return f'string "{text}"' if value else "an empty string"
    if isinstance(value, (bytes, bytearray)):
        return f"binary of {len(value)} bytes"
    if isinstance(value, (set, frozenset)):
        return f"a set of {len(value)}"
    if isinstance(value, dict):
        return f"a map of {len(value)} attributes"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    return type(value).__name__


class TransformError(ValueError):
    """A legacy item that cannot be mapped to v3. Quarantine it; do not write a partial item."""

    reason = "invalid_item"

    def __init__(self, source: str, key: object, detail: str) -> None:
        self.source = source
        self.key = key
        self.detail = detail
        super().__init__(f"{source} item {key!r}: {detail}")


class MissingKeyError(TransformError):
    reason = "missing_key"


class InvalidEmailError(TransformError):
    reason = "invalid_email"


class InvalidUserIdError(TransformError):
    reason = "invalid_user_id"


class InvalidTimestampError(TransformError):
    reason = "invalid_timestamp"


class InvalidIndexKeyError(TransformError):
    """The v3 item would carry a GSI key attribute (email, entityType, timestamp) that is not a non-empty string.

    DynamoDB refuses such a write (empty string or wrong type for an index key), and a refusal
    would otherwise surface only at write time, on every path separately.
    """

    reason = "invalid_index_key"


class ReservedAttributeError(TransformError):
    """The item carries an attribute the transform owns (`_*`, recordType, entityType, timestamp).

    Copying it would silently overwrite or be overwritten; quarantine makes the conflict visible.
    """

    reason = "reserved_attribute"


class MissingImageError(TransformError):
    """A stream record lacks the image needed to find the v3 key (stream view is not NEW_AND_OLD_IMAGES)."""

    reason = "missing_image"
