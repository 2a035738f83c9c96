"""What one legacy change means for v3: a pure plan of puts, tombstones and quarantines.

Shared by the Lambda handler, local sync and (for single items) repair, so every path applies
the contract the same way. No I/O here: `apply` in `replicator.apply` executes a plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cutover.names import ORDERS, USERS
from replicator.contract.errors import MissingImageError, TransformError
from replicator.contract.transform import SOURCE_KEY, Item, V3Key, transform, v3_keys

INSERT, MODIFY, REMOVE = "INSERT", "MODIFY", "REMOVE"


@dataclass(frozen=True)
class Change:
    """One legacy change, already deserialised and versioned."""

    source: str  # users | orders
    event_name: str  # INSERT | MODIFY | REMOVE
    keys: dict[str, Any]
    old: Item | None
    new: Item | None
    version: str

    @property
    def source_key(self) -> str:
        return str(self.keys.get(SOURCE_KEY[self.source], ""))

    @property
    def source_ref(self) -> str:
        return f"{self.source}#{self.source_key}"


@dataclass(frozen=True)
class Put:
    item: Item


@dataclass(frozen=True)
class Tombstone:
    key: V3Key


@dataclass(frozen=True)
class Quarantine:
    error: TransformError
    raw: Item


@dataclass(frozen=True)
class Plan:
    change: Change
    puts: tuple[Put, ...] = ()
    tombstones: tuple[Tombstone, ...] = ()
    quarantine: Quarantine | None = field(default=None)


def plan(change: Change) -> Plan:
    """Puts for the new image, tombstones for every key the old image held that the new does not.

    A bad new image is quarantined and its old keys tombstoned: v3 must not keep serving a
    version of the item that the source no longer has.
    """
    old_keys = _old_keys(change)
    if change.event_name == REMOVE:
        if change.old is None and change.source == ORDERS:
            err = MissingImageError(ORDERS, change.source_key, "REMOVE without OldImage: cannot find its v3 key")
            return Plan(change, quarantine=Quarantine(err, dict(change.keys)))
        return Plan(change, tombstones=tuple(Tombstone(k) for k in old_keys))
    if change.new is None:
        err = MissingImageError(change.source, change.source_key, f"{change.event_name} without NewImage")
        return Plan(change, quarantine=Quarantine(err, dict(change.keys)))
    try:
        items = transform(change.source, change.new)
    except TransformError as err:
        return Plan(change, tombstones=tuple(Tombstone(k) for k in old_keys), quarantine=Quarantine(err, change.new))
    new_keys = {(i["userId"], i["recordType"]) for i in items}
    return Plan(
        change,
        puts=tuple(Put(i) for i in items),
        tombstones=tuple(Tombstone(k) for k in old_keys if k not in new_keys),
    )


def _old_keys(change: Change) -> list[V3Key]:
    if change.old is not None:
        return v3_keys(change.source, change.old)
    if change.source == USERS and change.source_key:
        return [(change.source_key, "PROFILE")]
    return []
