"""Legacy items shaped by a migration definition, for the state machines that run over every migration.

A state machine needs a few keys per source and, under each key, a few good versions of the item
(so a write is a put, an update that moves target keys, or a re-write): drawn once, at import,
from the definition's own strategies (`cutover check`'s `legacy_items`), derandomized so every
run sees the same pool. Only items the transform accepts and the legacy table can hold are kept:
the invariants compare v3 with transform(legacy), and a bad item only keeps the gate shut.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cutover.migration import Migration, Secrets, TransformError
from cutover.migration_loader import load_migration
from cutover_cli.definition_check import legacy_items

MIGRATIONS = {"seed": "migrations.seed:MIGRATION", "catalog": "migrations.catalog:MIGRATION"}
SECRET_VALUE = "property-test-reviewer-key"  # put in SSM at each secret's pinned version


def secrets_of(migration: Migration) -> Secrets:
    """The secrets the engine reads from SSM in these machines: the value the machine stored."""
    return Secrets({s.name: SECRET_VALUE for s in migration.secrets}, {s.name: s.version for s in migration.secrets})


def storable(migration: Migration, role: str, item: dict[str, Any]) -> bool:
    """DynamoDB refuses an item whose index key attribute is empty or of another type: the legacy
    table cannot hold it, so no stream or scan ever shows it (generated items may be such)."""
    source = migration.source(role)
    for name, kind in source.attribute_types.items():
        if name in source.key_names or name not in item:
            continue
        value = item[name]
        ok = {"S": isinstance(value, str), "N": isinstance(value, Decimal | int) and not isinstance(value, bool),
              "B": isinstance(value, bytes | bytearray)}[kind]  # fmt: skip
        if not ok or value in ("", b""):
            return False
    return True


def good(migration: Migration, role: str, item: dict[str, Any]) -> bool:
    """The transform accepts it and DynamoDB would store it (`storable`)."""
    if not storable(migration, role, item):
        return False
    try:
        migration.transform(role, item, migration.test_secrets())
    except TransformError:
        return False
    return True


def _draw(migration: Migration, role: str, keys: int, more: int) -> list[dict[str, Any]]:
    """`keys` good items with distinct source keys, then `more` good items (the same every run)."""
    drawn: list[list[dict[str, Any]]] = []

    @settings(max_examples=1, derandomize=True, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        items = legacy_items(migration, role, light=True).filter(lambda i: good(migration, role, i))
        unique = st.lists(items, min_size=keys, max_size=keys, unique_by=lambda i: repr(migration.source_key(role, i)))
        drawn.append(data.draw(unique) + data.draw(st.lists(items, min_size=more, max_size=more)))

    draw()
    return drawn[0]


def pool(spec: str, keys: int, versions: int) -> dict[str, list[list[dict[str, Any]]]]:
    """role -> `keys` lists of `versions` good items, each list under one source key."""
    migration = load_migration(spec)
    out: dict[str, list[list[dict[str, Any]]]] = {}
    for role in migration.roles:
        drawn = _draw(migration, role, keys, keys * versions)
        names = migration.source(role).key_names
        out[role] = []
        for base in drawn[:keys]:
            key = {n: base[n] for n in names}
            same_key = [base] + [{**item, **key} for item in drawn[keys:]]
            out[role].append([item for item in same_key if good(migration, role, item)][:versions])
    return out
