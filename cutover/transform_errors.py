"""The errors a transform raises for bad legacy input. Each one becomes a quarantine entry, never a crash.

Part of the migration definition API (`cutover.migration` re-exports every name here): a user's
transform raises `TransformError` or a subclass of its own; the engine raises the subclasses
below for its own output checks. `reason` is a stable machine code (quarantine, metrics); the
message is one line that names the source role, the item's key and the fix.

Keys: a source key may be composite and of type S, N or B. An error carries `key` as the bare
string for a single string key (every message and quarantine entry before composite keys, byte
for byte), else as an `ItemKey`, shown as canonical JSON (`key_text`). A key that is missing or
mistyped is carried as the raw value found (None, a number...), shown with repr as before.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from decimal import Decimal

from cutover.ddb_values import binary_bytes

_MAX = 60


def shown(value: object) -> str:
    """A legacy value as a person reads it in a message: `number 7`, `string " "`, `nothing`;
    never a Python repr such as `Decimal('7')`. Long values are cut. (Unchanged from the seed's
    contract kernel, byte for byte: boto3's `Binary` still shows as its type name.)"""
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


def _json_value(value: object) -> str:
    """One key value in canonical JSON: strings as JSON strings, numbers as JSON numbers (no
    exponent, no trailing zeros: 1.50 and 1.5 are one DynamoDB number), binaries as {"B": base64}."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        number = Decimal(value)
        if number.is_finite():
            if number == number.to_integral_value():
                return str(int(number))
            return format(number.normalize(), "f")
    raw = binary_bytes(value)
    if raw is not None:
        return '{"B":' + json.dumps(base64.b64encode(raw).decode()) + "}"
    if value is None:
        return "null"
    return json.dumps(shown(value))  # not a key value at all (a missing or mistyped key): say what it is


@dataclass(frozen=True)
class ItemKey:
    """A source key that is not a single string (composite, or of type N or B): attribute names in
    the key schema's order (hash, then range) and their values. Shown and stored as canonical JSON,
    `{"productId":"p1","reviewId":"r1"}`, which `--key` accepts back."""

    names: tuple[str, ...]
    values: tuple[object, ...]

    def as_dict(self) -> dict[str, object]:
        return dict(zip(self.names, self.values, strict=True))

    @property
    def text(self) -> str:
        return (
            "{"
            + ",".join(f"{json.dumps(n, ensure_ascii=False)}:{_json_value(v)}" for n, v in self.as_dict().items())
            + "}"
        )

    def __str__(self) -> str:
        return self.text


def key_text(key: object) -> str | None:
    """The canonical text of an error's key, as quarantine stores it and `--key` accepts it: the bare
    string for a single string key, canonical JSON for an `ItemKey`; None when the key is not usable
    (missing, empty or mistyped: the item is then named by its content, as before)."""
    if isinstance(key, str):
        return key or None
    if isinstance(key, ItemKey):
        return key.text
    return None


def _key_shown(key: object) -> str:
    return key.text if isinstance(key, ItemKey) else repr(key)


class TransformError(ValueError):
    """A legacy item that cannot be mapped to the target. Quarantine it; do not write a partial item.

    `source` is the source role, `key` the item's key (see the module docstring), `detail` one
    sentence saying what is wrong and how to fix it at the source.
    """

    reason = "invalid_item"

    def __init__(self, source: str, key: object, detail: str) -> None:
        self.source = source
        self.key = key
        self.detail = detail
        super().__init__(self._message())

    def _message(self) -> str:
        return f"{self.source} item {_key_shown(self.key)}: {self.detail}"

    @property
    def key_text(self) -> str | None:
        """The key as quarantine stores it (see `key_text`)."""
        return key_text(self.key)

    def rekey(self, source: str, key: object) -> None:
        """Name the item by its role and canonical key (the engine does this for a user's transform,
        which may not know how the engine spells a composite key)."""
        self.source, self.key = source, key
        self.args = (self._message(), *self.args[1:])


class MissingKeyError(TransformError):
    """The legacy item has no usable primary key attribute (absent, empty or of the wrong type)."""

    reason = "missing_key"


class InvalidIndexKeyError(TransformError):
    """A target item would carry a GSI key attribute of the wrong type, or an empty string/binary.

    DynamoDB refuses such a write, and a refusal would otherwise surface only at write time, on
    every path separately.
    """

    reason = "invalid_index_key"


class ReservedAttributeError(TransformError):
    """The item carries an attribute the transform or the engine owns (`_*` bookkeeping, or a name
    the transform sets itself). Copying it would silently overwrite or be overwritten."""

    reason = "reserved_attribute"


class MissingImageError(TransformError):
    """A stream record lacks the image needed to find the target key (stream view is not NEW_AND_OLD_IMAGES)."""

    reason = "missing_image"


class InvalidOutputError(TransformError):
    """The transform returned something other than a list of items (mappings of attribute names)."""

    reason = "invalid_output"


class InvalidTargetKeyError(TransformError):
    """A target item lacks the target table's key attributes, or carries them with the wrong type."""

    reason = "invalid_target_key"


class DuplicateTargetKeyError(TransformError):
    """One call of the transform returned two items with one target key (the second would overwrite the first)."""

    reason = "duplicate_target_key"
