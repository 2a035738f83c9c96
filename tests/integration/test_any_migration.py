"""The engine's guarantees for ANY migration definition, run over three shapes.

The same steps, knowing nothing of any schema, against the moto server, for:
- `seed` (users/orders -> users-v3: the contract's own migration);
- `catalog` (products/reviews -> catalog: a composite source key, a fan-out into two target
  items, a key that moves when a mutable attribute changes, a numeric index key, a secret);
- `telemetry` (defined only here, in tests/unit/check_migrations.py: a numeric hash key and a
  binary range key on the source and the target).

Legacy items come from each definition's own strategies (derandomized: the same items every
run). The invariant checked after each step is the contract's end state, as `cutover reconcile`
judges it: every legacy item is in the target exactly as transform(L) says (every item of a
fan-out), or in quarantine; the target holds nothing live that no source item produces. And the
flip gate, through the real CLI named `--migration`: v3 allowed after backfill and a clean full
reconcile, refused while one target item is stale.
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from backfill.runner import run_backfill
from cutover.clients import Clients
from cutover.codec import from_ddb, to_ddb
from cutover.settings import Settings
from cutover.transform_errors import TransformError
from cutover_cli.app import main
from cutover_cli.definition_check import legacy_items
from cutover_cli.local_backend import enable_legacy_streams, init_backend
from reconciler.run import run_reconcile
from replicator.poller.sync import SyncOptions, run_sync
from replicator.quarantine import QuarantineStore
from replicator.redrive import Redriver

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))  # check_migrations (the third shape)
from flag_owner import read_source  # tests/ is on sys.path (conftest)
from shadow_world import shadow_phase_done

from tests.properties.migration_items import storable

pytestmark = pytest.mark.server
MIGRATIONS = {
    "seed": "migrations.seed:MIGRATION",
    "catalog": "migrations.catalog:MIGRATION",
    "telemetry": "check_migrations:TELEMETRY",
}
FAST = SyncOptions(poll_interval=0.0)
ITEMS_PER_SOURCE = 24


def _settings(request, moto_server) -> Settings:
    return Settings(
        service=f"m{uuid.uuid4().hex[:10]}", endpoint_url=moto_server.endpoint_url, region="us-east-1",
        migration=MIGRATIONS[request.param],
    )  # fmt: skip


@pytest.fixture(params=sorted(MIGRATIONS))
def world(request, moto_server) -> tuple[Settings, Clients]:
    settings = _settings(request, moto_server)
    clients = Clients(settings)
    init_backend(settings, clients)
    return settings, clients


@pytest.fixture(params=sorted(MIGRATIONS))
def world_before_streams(request, moto_server) -> tuple[Settings, Clients]:
    """Legacy tables as they were before cutover was deployed: no streams yet."""
    settings = _settings(request, moto_server)
    clients = Clients(settings)
    init_backend(settings, clients, legacy_streams=False)
    return settings, clients


@pytest.fixture(params=sorted(MIGRATIONS))
def world_on_dynalite(request, moto_server, dynalite_server, monkeypatch) -> tuple[Settings, Clients]:
    """DynamoDB on dynalite (an independent engine, stricter than moto; it has no Streams, so no
    sync), the rest on moto, as conftest's engine matrix runs the seed's suites."""
    monkeypatch.setenv("CUTOVER_DYNAMODB_ENDPOINT_URL", dynalite_server.endpoint_url)
    settings = replace(_settings(request, moto_server), dynamodb_endpoint_url=dynalite_server.endpoint_url)
    clients = Clients(settings)
    init_backend(settings, clients, legacy_streams=False)
    return settings, clients


def _draw(migration: Any, role: str, count: int, salt: int) -> list[dict[str, Any]]:
    """`count` items of one source with distinct keys, the same ones every run (derandomized)."""
    found: list[list[dict[str, Any]]] = []

    @settings(max_examples=1, derandomize=True, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        data.draw(st.integers(0, salt))  # a different fixed draw per salt
        items = data.draw(
            st.lists(
                legacy_items(migration, role, light=True).filter(lambda i: storable(migration, role, i)),
                min_size=count,
                max_size=count,
                unique_by=lambda i: repr(migration.source_key(role, i)),
            )  # fmt: skip
        )
        found.append(items)

    draw()
    return found[0]


def _put(clients: Clients, table: str, item: dict[str, Any]) -> None:
    clients.dynamodb.put_item(TableName=table, Item=to_ddb(item))


def _seed_legacy(settings: Settings, clients: Clients, salt: int = 0) -> dict[str, list[dict[str, Any]]]:
    names = settings.names
    out = {}
    for role in names.roles:
        items = _draw(names.migration, role, ITEMS_PER_SOURCE, salt)
        for item in items:
            _put(clients, names.source_table(role), item)
        out[role] = items
    return out


def _assert_clean(settings: Settings, clients: Clients, method: str = "merge") -> None:
    report = run_reconcile(settings, clients, segments=2, workers=2, method=method, record=False)
    assert report.clean, (settings.migration, method, report.counts, [d.to_dict() for d in report.shown][:5])


def _good(migration: Any, role: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for item in items:
        try:
            if migration.transform(role, item):
                out.append(item)
        except TransformError:
            pass
    return out


def test_sync_then_changes_keep_the_target_equal_to_the_transform(world):
    # Given legacy items of every source written while the streams are on
    settings, clients = world
    names = settings.names
    seeded = _seed_legacy(settings, clients)
    # When sync drains, Then the target is transform(legacy) (both reconcile methods agree)
    result = run_sync(settings, clients, once=True, options=FAST)
    assert result.unfinished == [] and result.gaps == []
    assert result.applied == sum(len(v) for v in seeded.values())
    _assert_clean(settings, clients, "merge")
    _assert_clean(settings, clients, "pages")
    # When a third of each source is replaced by other items under the same keys (key moves,
    # fan-out changes, good->bad, bad->good) and a sixth is deleted, and sync drains again
    changed = {role: _draw(names.migration, role, ITEMS_PER_SOURCE, 1) for role in names.roles}
    for role, items in seeded.items():
        table = names.source_table(role)
        for i, (old, new) in enumerate(zip(items, changed[role], strict=True)):
            key = names.migration.source_key(role, old)
            if i % 3 == 0:
                _put(clients, table, {**new, **dict(zip(names.migration.source(role).key_names, key, strict=True))})
            elif i % 6 == 1:
                clients.dynamodb.delete_item(TableName=table, Key=to_ddb(dict(zip(
                    names.migration.source(role).key_names, key, strict=True))))  # fmt: skip
    run_sync(settings, clients, once=True, options=FAST)
    # Then it is still exactly transform(legacy): no lost write, no stale item, no zombie
    _assert_clean(settings, clients, "merge")
    _assert_clean(settings, clients, "pages")


def test_backfill_of_history_then_sync_and_a_rerun_change_nothing(world_before_streams):
    # Given history written before the streams existed (only backfill can copy it)
    settings, clients = world_before_streams
    names = settings.names
    seeded = _seed_legacy(settings, clients)
    enable_legacy_streams(settings, clients)
    run_sync(settings, clients, once=True, options=FAST)
    # When backfill copies it (twice: the second run must fill nothing new)
    first = run_backfill(settings, clients, tables=names.roles, segments=3, workers=2)
    second = run_backfill(settings, clients, tables=names.roles, segments=3, workers=2)
    # Then the target is transform(legacy), and the re-run wrote nothing
    assert first.complete and second.complete
    assert sum(t.written for t in second.tables.values()) == 0
    good = sum(len(_good(names.migration, r, seeded[r])) for r in names.roles)
    assert sum(t.written + t.already_filled for t in first.tables.values()) >= good
    _assert_clean(settings, clients)


def test_repair_fixes_missing_stale_and_zombie_target_items(world):
    # Given a synced migration whose target then lost an item, got a stale one and a zombie
    settings, clients = world
    seeded = _seed_legacy(settings, clients)
    run_sync(settings, clients, once=True, options=FAST)
    _damage_reconcile_and_repair(settings, clients, seeded)


def test_backfill_reconcile_and_repair_on_dynalite_too(world_on_dynalite):
    # Given history on dynalite, copied by backfill (twice: the re-run fills nothing new)
    settings, clients = world_on_dynalite
    seeded = _seed_legacy(settings, clients)
    roles = settings.names.roles
    off = {"require_sync": False}  # dynalite has no Streams: `--i-know-sync-is-off`
    first = run_backfill(settings, clients, tables=roles, segments=3, workers=2, **off)
    second = run_backfill(settings, clients, tables=roles, segments=3, workers=2, **off)
    assert first.complete and second.complete and sum(t.written for t in second.tables.values()) == 0
    # Then both reconcile methods find the target equal to the transform
    _assert_clean(settings, clients, "merge")
    _assert_clean(settings, clients, "pages")
    # And a lost, a stale and a zombie item are found and repaired there too
    _damage_reconcile_and_repair(settings, clients, seeded)


def _damage_reconcile_and_repair(settings: Settings, clients: Clients, seeded: dict[str, list[dict[str, Any]]]) -> None:
    names, m = settings.names, settings.names.migration
    role = max(names.roles, key=lambda r: len(_good(m, r, seeded[r])))  # the source with most good items
    victims = _good(m, role, seeded[role])[:3]
    assert len(victims) == 3, f"the {role} strategy drew fewer than 3 good items"
    keys = m.target.key_names
    missing = m.transform(role, victims[0])[0]
    clients.dynamodb.delete_item(TableName=names.v3_table, Key=to_ddb({k: missing[k] for k in keys}))
    stale = m.transform(role, victims[1])[0]
    clients.dynamodb.update_item(
        TableName=names.v3_table, Key=to_ddb({k: stale[k] for k in keys}),
        UpdateExpression="SET staleMark = :v", ExpressionAttributeValues={":v": {"S": "stale"}},
    )  # fmt: skip
    zombie_src = victims[2]
    clients.dynamodb.delete_item(
        TableName=names.source_table(role),
        Key=to_ddb(dict(zip(m.source(role).key_names, m.source_key(role, zombie_src), strict=True))),
    )
    # When reconcile runs, Then it reports all three; a repair fixes them; the next run is clean
    report = run_reconcile(settings, clients, segments=2, workers=2, method="merge", record=False)
    assert report.counts["missing"] >= 1 and report.counts["different"] >= 1 and report.counts["extra"] >= 1
    repaired = run_reconcile(settings, clients, segments=2, workers=2, method="merge", repair=True, record=False)
    assert repaired.counts["remaining"] == 0, repaired.counts
    _assert_clean(settings, clients)


def test_a_bad_item_is_quarantined_by_its_key_and_redriven_once_fixed(world):
    # Given a legacy item the transform rejects (an attribute named like cutover's bookkeeping)
    settings, clients = world
    names, m = settings.names, settings.names.migration
    role = names.roles[0]
    good = _good(m, role, _draw(m, role, 8, 3))[0]
    _put(clients, names.source_table(role), {**good, "_meta": "x"})
    run_sync(settings, clients, once=True, options=FAST)
    store = QuarantineStore(clients.dynamodb, names.quarantine_table, m)
    key = m.source_key_text(role, good)
    entry = store.get(role, key)
    assert entry is not None and entry.status == "open", key
    # When the source is fixed (outside the stream: the re-drive must read it) and re-driven
    clients.dynamodb.put_item(TableName=names.source_table(role), Item=to_ddb(good))
    result = Redriver(clients.dynamodb, names).redrive(store.get(role, key))
    # Then every target item of it is there, and the entry is resolved
    assert result.outcome.value in ("written", "newer_in_v3"), result
    for item in m.transform(role, good):
        got = clients.dynamodb.get_item(
            TableName=names.v3_table, Key=to_ddb({k: item[k] for k in m.target.key_names}), ConsistentRead=True
        )
        assert {k: v for k, v in from_ddb(got["Item"]).items() if not k.startswith("_")} == item
    assert store.get(role, key).status == "resolved"


def _cli(settings: Settings, *args: str) -> tuple[int, str]:
    """The real CLI on this world's migration, named by `--migration` (not by the environment)."""
    result = CliRunner().invoke(
        main,
        [*args, "--endpoint-url", settings.endpoint_url, "--service", settings.service,
         "--migration", settings.migration],
        env={"CUTOVER_MIGRATION": None, "CUTOVER_LEGACY_TABLES": None},
    )  # fmt: skip
    return result.exit_code, result.output


def test_the_gate_allows_v3_after_backfill_and_a_clean_reconcile_and_refuses_a_stale_item(world, tmp_path):
    # Given good legacy items of every source, synced, backfilled and synced again through the CLI
    settings, clients = world
    names, m = settings.names, settings.names.migration
    good = {role: _good(m, role, _draw(m, role, 8, 4)) for role in names.roles}
    for role, items in good.items():
        for item in items:
            _put(clients, names.source_table(role), item)
    for step in (("sync", "--once"), ("backfill", "--table", "all", "--quiet"), ("sync", "--once")):
        assert _cli(settings, *step)[0] == 0, step
    # And one target item made stale (an attribute its transform does not give it)
    role = max(names.roles, key=lambda r: len(good[r]))
    stale = m.transform(role, good[role][0])[-1]  # the last item of a fan-out
    clients.dynamodb.update_item(
        TableName=names.v3_table, Key=to_ddb({k: stale[k] for k in m.target.key_names}),
        UpdateExpression="SET staleMark = :v", ExpressionAttributeValues={":v": {"S": "stale"}},
    )  # fmt: skip
    # When a full reconcile records it and the operator flips to shadow, then to v3
    report = ("--quiet", "--report", str(tmp_path / "reconcile.json"))
    code, out = _cli(settings, "reconcile", *report)
    assert code == 1 and "different 1" in out, out
    assert _cli(settings, "flip", "shadow")[0] == 0
    shadow_phase_done(settings, clients)  # this migration's application's shadow reads (tests/shadow_world.py)
    code, out = _cli(settings, "flip", "v3")
    # Then the flip is refused, naming the unclean reconcile, and readers stay on shadow
    assert code == 1 and "the last reconcile is not clean" in out, out
    assert read_source(settings, clients) == "shadow"
    # When a repair fixes it and a clean full reconcile is recorded after sync caught up
    code, out = _cli(settings, "reconcile", "--repair", *report)
    assert code == 0 and "repaired 1  remaining 0" in out, out
    assert _cli(settings, "sync", "--once")[0] == 0
    assert _cli(settings, "reconcile", *report)[0] == 0
    # Then the flip to v3 is allowed
    code, out = _cli(settings, "flip", "v3")
    assert (code, out.strip()) == (0, "read-source: shadow -> v3"), out
    assert read_source(settings, clients) == "v3"
