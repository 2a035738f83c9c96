"""The seed migration definition (migrations.seed) behaves exactly as the engine's transform does
today: same items, same errors (type, reason, message) for generated items clean and messy, and
the same tables, keys and indexes as cutover.names (which the engine still reads)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transform_strategies import sourced_items

import migrations.seed.transform as seed_transform
from cutover import names
from cutover.migration import TransformError
from cutover.names import Names
from cutover_cli.definition_check import legacy_items
from migrations.seed import MIGRATION
from migrations.seed.transform import transform as engine_transform

relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=300)


def outcome(call: Any) -> tuple[str, Any]:
    try:
        return "items", call()
    except TransformError as err:
        return "error", (type(err), err.reason, str(err), err.source, err.key)


def assert_same(role: str, item: dict[str, Any]) -> None:
    before = copy.deepcopy(item)
    through_definition = outcome(lambda: MIGRATION.transform(role, item))
    through_engine = outcome(lambda: engine_transform(role, item))
    assert through_definition == through_engine
    assert item == before


@relaxed
@given(sourced_items())
def test_definition_matches_engine_on_contract_items(case):
    role, item, _ = case
    assert_same(role, item)


@relaxed
@given(st.sampled_from(["users", "orders"]).flatmap(lambda r: st.tuples(st.just(r), legacy_items(MIGRATION, r))))
def test_definition_matches_engine_on_messy_items(case):
    # the items `cutover check` generates: every DynamoDB type, reserved names, bad keys' neighbours
    role, item = case
    assert_same(role, item)


def test_the_definition_declares_the_tables_the_engine_uses():
    n = Names(service="svc", stage="prod")
    for role, spec in (("users", n.source_spec("users")), ("orders", n.source_spec("orders"))):
        source = MIGRATION.source(role)
        assert MIGRATION.source_table(role, "svc", "prod") == spec.name
        assert source.key_names == spec.key_names()
        assert [(ix.name, source.index_key_names(ix), ix.projection) for ix in source.indexes] == [
            (ix.name, tuple(k for k in (ix.hash_key, ix.range_key) if k), ix.projection) for ix in spec.indexes
        ]
    v3 = n.v3_spec()
    target = MIGRATION.target
    assert MIGRATION.target_table("svc", "prod") == v3.name
    assert target.key_names == v3.key_names() and set(target.attribute_types.values()) == {"S"}
    assert [(ix.name, target.index_key_names(ix), ix.projection) for ix in target.indexes] == [
        (ix.name, tuple(k for k in (ix.hash_key, ix.range_key) if k), ix.projection) for ix in v3.indexes
    ]
    assert {a["AttributeName"] for a in v3.attribute_definitions()} == set(target.attribute_types)


def test_the_seeds_names_are_what_the_engine_derives_from_it():
    # The engine holds no seed name of its own: what it creates is derived from the definition
    n = names.Names("my-service", "dev", migration=MIGRATION)
    assert (seed_transform.USERS, seed_transform.ORDERS) == MIGRATION.roles == n.roles
    assert {ix.name for ix in n.v3_spec().indexes} == {
        seed_transform.EMAIL_LOOKUP_INDEX,
        seed_transform.TIME_SERIES_INDEX,
    }
    assert n.v3_table == "my-service-dev-users-v3"
