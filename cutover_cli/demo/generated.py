"""Legacy items for any migration's demo, generated from its definition, deterministically.

Attributes come from the definition's own hypothesis strategies (`Migration.strategies`), else
from `cutover check`'s generic ones (flat extras of every DynamoDB type). Keys are the demo's
own, of the declared types and readable (`<role>-00042`; a composite key groups four items
under one hash key), so items never collide and a person can find one. About one item in
twenty is one the transform rejects (it must end up quarantined), the rest are good.

hypothesis draws the attribute sets (phase `generate` only, a fixed seed, no database): the
same seed gives the same data on every run of one hypothesis version.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary

from cutover.codec import to_ddb
from cutover.migration import Item, Migration, Source
from cutover.transform_errors import TransformError
from cutover_cli.demo.writer import PacedWriter

BAD_EVERY = 20  # one item in BAD_EVERY is one the transform rejects (when the strategy yields such items)
POOL_FACTOR = 2  # attribute sets drawn per item wanted: room to pick good and bad ones, and for the writer
GROUP = 4  # items per hash key, for a source with a range key


@dataclass
class Generated:
    """What the seeding step wrote, and what the writer draws from afterwards."""

    items: dict[str, dict[tuple[Any, ...], Item]]  # role -> source key -> item, as written
    good: dict[str, list[Item]]  # role -> attribute sets (no key attributes) the transform accepts
    rejected: dict[str, list[Item]]  # role -> attribute sets it rejects (may be empty)
    bad: Counter[str] = field(default_factory=Counter)  # role -> items written that the transform rejects
    next_index: dict[str, int] = field(default_factory=dict)  # role -> the next unused key index

    def attributes(self, role: str, rng: random.Random) -> Item:
        """An attribute set for a write: one in BAD_EVERY a rejected one (where there are any)."""
        bad = self.rejected[role]
        if bad and (not self.good[role] or rng.randrange(BAD_EVERY) == 0):
            return rng.choice(bad)
        return rng.choice(self.good[role])


def demo_key(source: Source, index: int) -> dict[str, Any]:
    """The index-th key of a source, of the declared types (hash, or hash and range)."""
    composite = source.range_key is not None
    out: dict[str, Any] = {}
    for position, key in enumerate(source.keys):
        n = index // GROUP if composite and position == 0 else index
        label = f"{source.role}-{n:05d}" if position == 0 else f"{n:05d}"
        if key.type == "S":
            out[key.name] = label
        elif key.type == "N":
            out[key.name] = Decimal(n)
        else:
            out[key.name] = Binary(label.encode())
    return out


def attribute_sets(migration: Migration, role: str, count: int, seed: int) -> list[Item]:
    """`count` attribute sets for a source's items (no key attributes), deterministic for `seed`."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    from cutover_cli.definition_check import legacy_items

    factory = migration.strategies.get(role)
    strategy = factory() if factory is not None else legacy_items(migration, role, light=True)
    if not isinstance(strategy, st.SearchStrategy):
        strategy = legacy_items(migration, role, light=True)
    drawn: list[Item] = []
    key_names = set(migration.source(role).key_names)

    @hypothesis_seed(seed)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        if isinstance(value, Mapping):
            drawn.append({k: v for k, v in value.items() if k not in key_names})

    collect()
    return [writable(migration.source(role), attributes) for attributes in drawn] or [{}]


def writable(source: Source, attributes: Item) -> Item:
    """The attribute set without values the legacy table itself refuses: a key attribute of one of
    its own GSIs must be of the declared type (and non-empty), so such an item cannot exist there."""
    out = dict(attributes)
    for name, (kind, _index) in source.index_keys.items():
        if name in out and not _index_value(out[name], kind):
            del out[name]
    return out


def _index_value(value: Any, kind: str) -> bool:
    if kind == "S":
        return isinstance(value, str) and value != ""
    if kind == "N":
        return isinstance(value, (int, Decimal)) and not isinstance(value, bool) and Decimal(value).is_finite()
    raw = getattr(value, "value", None) if isinstance(value, Binary) else value  # boto3's Binary wraps bytes
    return isinstance(raw, (bytes, bytearray)) and len(raw) > 0


def is_good(migration: Migration, role: str, item: Mapping[str, Any]) -> bool:
    """Whether the transform accepts the item, with the secrets' test values: the demo runs locally,
    and whether an item is good never depends on a secret's value."""
    try:
        migration.transform(role, item, migration.test_secrets())
    except TransformError:
        return False
    return True


def generate(migration: Migration, per_role: int, seed: int) -> Generated:
    """`per_role` items per source role, one in BAD_EVERY of them bad (where the strategy has any)."""
    out = Generated(items={}, good={}, rejected={})
    for position, role in enumerate(migration.roles):
        source = migration.source(role)
        pool = attribute_sets(migration, role, per_role * POOL_FACTOR, seed + position)
        sample_key = demo_key(source, 0)  # whether a set is good rarely depends on the key; checked again below
        good = [a for a in pool if is_good(migration, role, {**a, **sample_key})]
        out.good[role], out.rejected[role] = (
            good,
            [a for a in pool if not is_good(migration, role, {**a, **sample_key})],
        )
        items: dict[tuple[Any, ...], Item] = {}
        for index in range(per_role):
            want_bad = index % BAD_EVERY == BAD_EVERY - 1
            choices = out.rejected[role] if (want_bad and out.rejected[role]) or not good else good
            candidate = {**choices[index % len(choices)], **demo_key(source, index)}
            items[migration.source_key(role, candidate)] = candidate
            out.bad[role] += not is_good(migration, role, candidate)
        out.items[role] = items
        out.next_index[role] = per_role
    return out


def good_fix(migration: Migration, role: str, data: Generated, key: Mapping[str, Any]) -> Item | None:
    """A good item with this key (to fix a quarantined item at the source), or None."""
    for attributes in data.good[role]:
        candidate = {**attributes, **key}
        if is_good(migration, role, candidate):
            return candidate
    return None


class GeneratedWriter(PacedWriter):
    """Any definition's 'legacy application' during live sync: replaces items with other attribute
    sets (which may move their target keys, fan out differently, or turn them bad or good),
    deletes some and inserts new ones, at a steady rate. `counts` says what it did."""

    def __init__(
        self,
        dynamodb: Any,
        tables: Mapping[str, str],
        migration: Migration,
        data: Generated,
        rng: random.Random,
        per_second: float,
    ) -> None:
        super().__init__(rng, per_second)
        self._ddb, self._tables, self._migration, self._data = dynamodb, dict(tables), migration, data

    def operations(self) -> list[tuple[Callable[[], None], int]]:
        return [(self.update, 60), (self.delete, 15), (self.insert, 25)]

    def summary(self) -> list[tuple[str, str]]:
        c = self.counts
        return [
            ("legacy writes during the run", f"{sum(c.values()):,}"),
            ("updates / deletes / inserts", f"{c['update']} / {c['delete']} / {c['insert']}"),
        ]

    def _role(self) -> str:
        return self._rng.choice(self._migration.roles)

    def _put(self, role: str, item: Item) -> None:
        self._ddb.put_item(TableName=self._tables[role], Item=to_ddb(item))
        self._data.items[role][self._migration.source_key(role, item)] = item

    def update(self) -> None:
        role = self._role()
        items = self._data.items[role]
        if items:
            key = self._rng.choice(list(items))
            source = self._migration.source(role)
            attributes = self._data.attributes(role, self._rng)
            self._put(role, {**attributes, **dict(zip(source.key_names, key, strict=True))})
            self.counts["update"] += 1

    def delete(self) -> None:
        role = self._role()
        items = self._data.items[role]
        if items:
            key = self._rng.choice(list(items))
            names = self._migration.source(role).key_names
            self._ddb.delete_item(TableName=self._tables[role], Key=to_ddb(dict(zip(names, key, strict=True))))
            del items[key]
            self.counts["delete"] += 1

    def insert(self) -> None:
        role = self._role()
        index = self._data.next_index[role]
        self._data.next_index[role] = index + 1
        key = demo_key(self._migration.source(role), index)
        self._put(role, {**self._data.attributes(role, self._rng), **key})
        self.counts["insert"] += 1
