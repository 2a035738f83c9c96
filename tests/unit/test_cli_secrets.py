"""`cutover secrets rotate|status` on the catalog migration (its secret `reviewer-key`), in-process moto.

A rotation is an operator's decision recorded in cutover's state: only a version that exists in
SSM is accepted, every later reader transforms at it (the reviewer hash changes), two rotations
at once cannot both land, and the flip gate refuses v3 until a full repair started after it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner
from moto import mock_aws

from backfill.runner import run_backfill
from cutover.clients import Clients
from cutover.codec import from_ddb, to_ddb
from cutover.secret_pins import PinStore
from cutover.settings import Settings
from cutover.state import CheckpointStore
from cutover_cli.app import main

CATALOG = "migrations.catalog:MIGRATION"
KEYS = {1: "reviewer-key-one", 2: "reviewer-key-two"}
EMAIL = "ada@example.com"


@pytest.fixture
def world(tmp_path, monkeypatch) -> Iterator[tuple[Settings, Clients]]:
    """The catalog's tables, one review backfilled under version 1, and version 2 put in SSM."""
    monkeypatch.chdir(tmp_path)  # reconcile writes its report to the working directory
    with mock_aws():
        settings = Settings(service="unit", region="us-east-1", migration=CATALOG)
        clients = Clients(settings)
        names = settings.names
        parameter = names.migration.secret("reviewer-key").parameter_name("unit", "dev")
        for value in KEYS.values():
            clients.ssm.put_parameter(Name=parameter, Value=value, Type="SecureString", Overwrite=True)
        for spec in names.all_specs():
            clients.dynamodb.create_table(**spec.create_table_kwargs())
        review = {
            "productId": "p1",
            "reviewId": "r1",
            "status": "PENDING",
            "rating": Decimal(4),
            "reviewerEmail": EMAIL,
        }
        clients.dynamodb.put_item(TableName=names.source_table("reviews"), Item=to_ddb(review))
        run_backfill(settings, clients, segments=1, require_sync=False)
        yield settings, clients


def cutover(*args: str) -> Any:
    where = ["--service", "unit", "--region", "us-east-1", "--migration", CATALOG]
    return CliRunner().invoke(main, [*args, *where], env={"CUTOVER_ENDPOINT_URL": "", "CUTOVER_MIGRATION": ""})


def reviewer_hash(settings: Settings, clients: Clients) -> str:
    key = to_ddb({"pk": "PRODUCT#p1", "sk": "REVIEW#PENDING#r1"})
    item = clients.dynamodb.get_item(TableName=settings.names.v3_table, Key=key, ConsistentRead=True)["Item"]
    return str(from_ddb(item)["reviewerHash"])


def hashed(version: int) -> str:
    return hmac.new(KEYS[version].encode(), EMAIL.encode(), hashlib.sha256).hexdigest()


def gate_failures() -> list[str]:
    result = cutover("status", "--json")
    assert result.exit_code == 0, result.output
    return [f for f in json.loads(result.output)["flip_to_v3"]["failures"] if "reviewer-key" in f]


def test_rotating_to_a_version_that_does_not_exist_is_one_line_and_records_nothing(world):
    settings, clients = world
    # When the operator rotates to version 7, which SSM does not have
    result = cutover("secrets", "rotate", "reviewer-key", "--to-version", "7")
    # Then one line names the secret, the version and the fix, exit 2, and the pin is still the definition's
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert line.count("\n") == 0 and "reviewer-key" in line and ":7" in line and "put-parameter" in line
    assert cutover("secrets", "rotate", "nope", "--to-version", "2").exit_code == 2
    names = settings.names
    assert PinStore(CheckpointStore(clients.dynamodb, names.checkpoints_table), names.migration).recorded() == {}


def test_a_rotation_is_recorded_changes_the_hash_and_holds_the_flip_until_a_full_repair(world):
    settings, clients = world
    # Given the review backfilled under the definition's version 1, and a flip gate silent about secrets
    assert reviewer_hash(settings, clients) == hashed(1) and gate_failures() == []
    # When the operator rotates reviewer-key to version 2
    rotated = cutover("secrets", "rotate", "reviewer-key", "--to-version", "2", "--reason", "yearly", "--json")
    # Then the decision is recorded with its time, and status shows it
    assert rotated.exit_code == 0, rotated.output
    record = json.loads(rotated.output)
    assert (record["secret"], record["version"], record["previous_version"]) == ("reviewer-key", 2, 1)
    status = json.loads(cutover("secrets", "status", "--json").output)
    assert status[0]["version"] == 2 and status[0]["declared_version"] == 1
    assert status[0]["rotated_at"] == record["rotated_at"] and status[0]["reason"] == "yearly"
    # And a reconcile (a new reader) transforms at version 2: the stored hash now differs
    assert cutover("reconcile", "--quiet").exit_code == 1
    # And the flip gate names the rotation and the fix
    (failure,) = gate_failures()
    assert record["rotated_at"] in failure and "`cutover reconcile --repair`" in failure
    # When a sampled repair runs, the gate still refuses; after a full repair the hash is version 2's
    assert cutover("reconcile", "--repair", "--sample", "0.5", "--quiet").exit_code in (0, 1)
    assert len(gate_failures()) == 1
    repaired = cutover("reconcile", "--repair", "--quiet")
    assert repaired.exit_code == 0, repaired.output
    assert reviewer_hash(settings, clients) == hashed(2)
    # Then the flip gate no longer mentions the secret
    assert gate_failures() == []


def test_of_two_rotations_from_the_same_reading_one_lands_and_the_other_is_told(world):
    settings, clients = world
    # Given two operators who both read the pin at the definition's version 1
    names = settings.names
    store = PinStore(CheckpointStore(clients.dynamodb, names.checkpoints_table), names.migration)
    secret = names.migration.secret("reviewer-key")
    seen = store.pin(secret)
    # When the first records version 2 through the CLI, and the second writes from its stale reading
    assert cutover("secrets", "rotate", "reviewer-key", "--to-version", "2").exit_code == 0
    # Then the second is refused and the pin is the first's
    assert store.rotate(seen, 1, "2026-01-01T00:00:00Z", None, None) is False  # fixed-date: a stale write
    assert store.pin(secret).version == 2
    # And rotating again to the version already pinned is refused in one line
    again = cutover("secrets", "rotate", "reviewer-key", "--to-version", "2")
    assert again.exit_code == 2 and "already pinned at version 2" in again.output


def test_a_rotation_that_loses_the_race_is_told_in_one_line_and_the_winner_stands(world, monkeypatch):
    # Given another operator whose rotation lands between this command's read and its write
    original = PinStore.rotate

    def raced(self: PinStore, current: Any, to_version: int, at: str, by: Any, reason: Any) -> bool:
        assert original(self, current, to_version, at, "other", "theirs")
        return original(self, current, to_version, at, by, reason)

    monkeypatch.setattr(PinStore, "rotate", raced)
    # When this command rotates
    result = cutover("secrets", "rotate", "reviewer-key", "--to-version", "2", "--reason", "mine")
    # Then it is told, exit 2, and the record is the other operator's
    assert result.exit_code == 2 and "another rotation of 'reviewer-key' landed first" in result.output
    (pin,) = json.loads(cutover("secrets", "status", "--json").output)
    assert pin["reason"] == "theirs"
