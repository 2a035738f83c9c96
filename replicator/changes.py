"""What one legacy change means for v3: a pure plan of puts, tombstones and quarantines.

Shared by the Lambda handler, local sync and (for single items) repair, so every path applies
the contract the same way. No I/O here: `apply` in `replicator.apply` executes a plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cutover.migration import Item, Migration
from cutover.migration_loader import load_migration
from cutover.transform_errors import ItemKey, MissingImageError, TransformError, key_text
from replicator.v3_writer import TargetKey

INSERT, MODIFY, REMOVE = "INSERT", "MODIFY", "REMOVE"


@dataclass(frozen=True)
class Change:
    """One legacy change, already deserialised and versioned."""

    source: str  # the source role
    event_name: str  # INSERT | MODIFY | REMOVE
    keys: dict[str, Any]
    old: Item | None
    new: Item | None
    version: str
    key_names: tuple[str, ...] = ()  # the source's key schema order (hash, range); () = as in `keys`

    @property
    def key_label(self) -> object:
        """How quarantine and errors name the item: the bare string for one string key, else an ItemKey."""
        names = self.key_names or tuple(self.keys)
        values = tuple(self.keys.get(n) for n in names)
        if not values or any(v is None for v in values):
            return ""  # the record's Keys are not this source's key: no usable key
        if len(values) == 1 and isinstance(values[0], str):
            return values[0]
        return ItemKey(names, values)

    @property
    def source_key(self) -> str:
        """The item's key as quarantine stores it (`cutover.transform_errors.key_text`); "" if unusable."""
        return key_text(self.key_label) or ""

    @property
    def source_ref(self) -> str:
        return f"{self.source}#{self.source_key}"


@dataclass(frozen=True)
class Put:
    item: Item


@dataclass(frozen=True)
class Tombstone:
    key: TargetKey


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


def plan(change: Change, migration: Migration | None = None) -> Plan:
    """Puts for the new image, tombstones for every key the old image held that the new does not.

    A bad new image is quarantined and its old keys tombstoned: the target must not keep serving
    a version of the item that the source no longer has. A transform that returns several items
    (fan-out) puts each; one that returns none puts nothing and tombstones what the old image
    held. `migration` defaults to the process's definition.
    """
    m = migration or load_migration()
    old_keys = _old_keys(change, m)
    if change.event_name == REMOVE:
        if old_keys is None:
            err = MissingImageError(change.source, change.key_label, "REMOVE without OldImage: cannot find its v3 key")
            return Plan(change, quarantine=Quarantine(err, dict(change.keys)))
        return Plan(change, tombstones=tuple(Tombstone(k) for k in old_keys))
    if change.new is None:
        err = MissingImageError(change.source, change.key_label, f"{change.event_name} without NewImage")
        return Plan(change, quarantine=Quarantine(err, dict(change.keys)))
    try:
        items = m.transform(change.source, change.new)
    except TransformError as err:
        tombs = tuple(Tombstone(k) for k in old_keys or ())
        return Plan(change, tombstones=tombs, quarantine=Quarantine(err, change.new))
    new_keys = {m.target_key(i) for i in items}
    return Plan(
        change,
        puts=tuple(Put(i) for i in items),
        tombstones=tuple(Tombstone(k) for k in old_keys or () if k not in new_keys),
    )


def _old_keys(change: Change, m: Migration) -> list[TargetKey] | None:
    """The target keys the item held before this change; None if that cannot be known (no old
    image, and the definition cannot derive them from the source key)."""
    if change.old is not None:
        return m.target_keys(change.source, change.old)
    if change.source_key:
        return m.target_keys_of_deleted(change.source, change.keys)
    return None if change.event_name == REMOVE else []
