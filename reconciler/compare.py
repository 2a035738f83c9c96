"""Pure comparison rules of the reconciler: what counts as equal, missing or extra, and sampling.

No I/O: the reconciler reads, these functions judge. Attributes starting with `_` are
bookkeeping (version, source, tombstone flag) and never compared.

A stale v3 item (older than legacy) is reported as `different`, naming the attributes that
changed: legacy items carry no version, so content is the only honest measure of "older".

Keys are the migration definition's: a target key is a tuple of values in (hash, range) order
(`Migration.target_key`), a source item is named by its role and its key text
(`Migration.source_key_text`). The target -> source direction reads the `_source` bookkeeping
every written item carries (`<role>#<source key text>`), never a naming convention of the
target's keys: a live item without one that names a known source is `unknown_record_type`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from cutover import ddb_values
from cutover.migration import Item, Key, Migration, MigrationError, canonical
from cutover.migration_loader import load_migration
from cutover.transform_errors import TransformError
from replicator.v3_writer import TargetKey, is_tombstone

MISSING, EXTRA, DIFFERENT, UNQUARANTINED = "missing", "extra", "different", "unquarantined_bad_item"
SOURCE_DELETED, SOURCE_INVALID, SOURCE_MOVED, UNKNOWN_RECORD = (
    "source_deleted",
    "source_invalid",
    "source_moved",
    "unknown_record_type",
)
SourceRef = tuple[str, str]  # (source role, source key text)


def visible(item: Item) -> Item:
    return ddb_values.visible(item)


def target_key_of(item: Mapping[str, Any], key_names: Sequence[str]) -> TargetKey:
    """The target key of an item read from the target table (its key attributes are always there)."""
    return tuple(item[name] for name in key_names)


def sort_key(key: Sequence[Any]) -> tuple[str, ...]:
    """A total, stable order of target keys whatever their types: strings as they are, numbers and
    binaries in `cutover.ddb_values.canonical` form (1.50 and 1.5 one key, bytes and Binary one key).
    A key position has one declared type, so strings only ever meet strings."""
    return tuple(v if type(v) is str else ddb_values.canonical(v) for v in key)


class Keys:
    """The migration's keys on the reconciler's per-item path, at the cost of plain lookups: a
    source key text (the bare string of a single string key, else `Migration.source_key_text`), a
    target key from a target item, and its sort order (the key itself when every target key is a
    string)."""

    def __init__(self, migration: Migration) -> None:
        self.migration = migration
        names = migration.target.key_names
        self.target_names = names
        self.target_of: Callable[[Mapping[str, Any]], TargetKey] = (
            itemgetter(*names) if len(names) > 1 else _one_key(names[0])
        )
        self._strings = all(k.type == "S" for k in migration.target.keys)
        self._single = {s.role: s.hash_key.name for s in migration.sources if s.keys == (Key(s.hash_key.name, "S"),)}

    def order(self, key: TargetKey) -> tuple[Any, ...]:
        return key if self._strings else sort_key(key)

    def source_text(self, role: str, item: Mapping[str, Any]) -> str:
        name = self._single.get(role)
        if name is not None:
            value = item.get(name)
            if type(value) is str and value:
                return value
        return self.migration.source_key_text(role, item)


def _one_key(name: str) -> Callable[[Mapping[str, Any]], TargetKey]:
    def key_of(item: Mapping[str, Any]) -> TargetKey:
        return (item[name],)

    return key_of


def differing_attributes(expected: Item, actual: Item) -> dict[str, dict[str, Any]]:
    """Every non-`_` attribute whose value differs by DynamoDB's equality (`cutover.ddb_values`),
    with both values (absent shown as None)."""
    want, have = visible(expected), visible(actual)
    return {
        name: {"expected": want.get(name), "actual": have.get(name)} for name in ddb_values.differing(expected, actual)
    }


def legacy_finding(
    expected: Item, actual: Item | None, source_ref: str | None = None
) -> tuple[str, dict[str, dict[str, Any]]] | None:
    """Judge the v3 item found at transform(L)'s key: None if it matches, else (kind, attributes).

    With `source_ref` (`<role>#<source key text>` of L), a live item whose `_source` names another
    source item is `different` too (attribute `_source`): the other direction would find it an
    orphan, and a repair that rewrites it (rather than the other direction's tombstone alone)
    leaves the target right in one run."""
    if actual is None or is_tombstone(actual):
        return MISSING, {}
    attrs = differing_attributes(expected, actual)
    if source_ref is not None and actual.get("_source") != source_ref:
        attrs["_source"] = {"expected": source_ref, "actual": actual.get("_source")}
    return (DIFFERENT, attrs) if attrs else None


def source_of_v3(item: Mapping[str, Any], migration: Migration | None = None) -> SourceRef | None:
    """The legacy (role, source key text) a target item says it comes from: its `_source`, split at
    the first `#`. None when it has none, names no source of the migration, or its key is not a key
    of that source (an item no source of this migration wrote: `unknown_record_type`)."""
    ref = item.get("_source")
    if not isinstance(ref, str):
        return None
    role, sep, key = ref.partition("#")
    m = migration or load_migration()
    if not sep or not key or role not in m.roles:
        return None
    try:
        m.parse_source_key(role, key)
    except MigrationError:
        return None
    return role, key


def v3_finding(key: TargetKey, legacy: Item | None, source: str, migration: Migration | None = None) -> str | None:
    """Why a live v3 item at `key` should not exist (None if its source is there and one of the target
    items it becomes has exactly `key`: a fan-out's every item is accounted for)."""
    if legacy is None:
        return SOURCE_DELETED
    m = migration or load_migration()
    try:
        produced = m.transform(source, legacy)
    except TransformError:
        return SOURCE_INVALID
    wanted = canonical(key)
    return None if any(canonical(m.target_key(i)) == wanted for i in produced) else SOURCE_MOVED


def sampled(source: str, key: str, fraction: float | None) -> bool:
    """Deterministic hash sampling on the *source* role and key text, so both directions (and every
    target item of a fan-out) pick the same source items."""
    if fraction is None or fraction >= 1:
        return True
    digest = hashlib.blake2b(f"{source}#{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < fraction
