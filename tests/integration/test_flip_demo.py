"""The demo's cut-over step: shadow with zero mismatches, v3, rollback, on a prepared backend."""

from __future__ import annotations

import pytest
from test_flip_interlock import fresh, module_backend, prepare  # same directory: pytest puts it on sys.path

from cutover.codec import to_ddb
from cutover.errors import CutoverError
from cutover.state import FLIP, ReportStore
from cutover_cli.demo.flip_steps import run_cutover
from migrations.seed.transform import transform
from replicator.v3_writer import V3Writer

pytestmark = pytest.mark.server

USERS = [
    {"userId": f"d{i}", "email": f" User{i}@Example.com", "createdAt": 1600000000 + i, "tier": "gold"} for i in range(3)
]
ORDERS = [{"orderId": f"o{i}", "userId": f"d{i % 2}", "amount": 10 + i} for i in range(3)]


@pytest.fixture(scope="module")
def backend(moto_server):
    return module_backend(moto_server, "demo")


@pytest.fixture
def world(backend):
    settings, clients = fresh(*backend)
    _replicated(settings, clients)
    return settings, clients


def _replicated(settings, clients) -> None:
    n = settings.names
    writer = V3Writer(clients.dynamodb, n.v3_table)
    for source, table, items in (
        ("users", n.source_table("users"), USERS),
        ("orders", n.source_table("orders"), ORDERS),
    ):
        for item in items:
            clients.dynamodb.put_item(TableName=table, Item=to_ddb(item))
            writer.fill(transform(source, item)[0], f"{source}#x")


def test_run_cutover_goes_shadow_v3_and_back(world):
    # Given replicated data, a clean recent reconcile and caught-up sync
    settings, clients = world
    prepare(settings, clients)
    echoed: list[str] = []
    # When the demo's cut-over runs
    steps = run_cutover(settings, clients, echoed.append)
    # Then it walks shadow -> v3 -> legacy, with zero mismatches and v3 serving, and records 3 flips
    assert [name for name, _ in steps] == ["flip shadow", "shadow reads", "flip v3", "v3 reads", "rollback"]
    assert (
        "0 mismatches" in steps[1][1] and "served by v3: 8, fell back to legacy: 1" in steps[3][1]
    )  # the 404 probe falls back
    assert len(echoed) == 5
    assert clients.ssm.get_parameter(Name=settings.names.read_source_parameter)["Parameter"]["Value"] == "legacy"
    flips = ReportStore(clients.dynamodb, settings.names.reports_table).history(FLIP)
    assert [f["to"] for f in flips] == ["legacy", "v3", "shadow"]


def test_run_cutover_stops_on_a_shadow_mismatch(world):
    # Given v3 disagrees with legacy about one user
    settings, clients = world
    prepare(settings, clients)
    V3Writer(clients.dynamodb, settings.names.v3_table).put(
        {**transform("users", USERS[0])[0], "tier": "tin"}, "9", "users#d0"
    )
    # When the cut-over runs, Then it raises before flipping to v3
    with pytest.raises(CutoverError, match="mismatch"):
        run_cutover(settings, clients, lambda _: None)
    assert clients.ssm.get_parameter(Name=settings.names.read_source_parameter)["Parameter"]["Value"] == "shadow"
