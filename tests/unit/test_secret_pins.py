"""The reader binds the recorded pin: on AWS every secret at its pin, locally test values unless rotated."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from cutover import transform_secrets
from cutover.clients import Clients
from cutover.secret_pins import PinStore
from cutover.settings import Settings
from cutover.state import CheckpointStore

CATALOG = "migrations.catalog:MIGRATION"


@pytest.fixture
def backend() -> Iterator[tuple[Any, Clients]]:
    """The catalog's checkpoints table and its secret at versions 1 and 2 in SSM."""
    with mock_aws():
        settings = Settings(service="unit", region="us-east-1", migration=CATALOG)
        clients, names = Clients(settings), settings.names
        parameter = names.migration.secret("reviewer-key").parameter_name("unit", "dev")
        for value in ("ssm-one", "ssm-two"):
            clients.ssm.put_parameter(Name=parameter, Value=value, Type="SecureString", Overwrite=True)
        (spec,) = [s for s in names.own_specs() if s.role == "checkpoints"]
        clients.dynamodb.create_table(**spec.create_table_kwargs())
        yield names, clients


def bound(names: Any, clients: Clients, *, local: bool) -> tuple[str | bytes, int]:
    migration = names.migration
    transform_secrets.bind(migration, local=local, ssm=lambda: clients.ssm, service="unit", stage="dev",
                           dynamodb=lambda: clients.dynamodb)  # fmt: skip
    secrets = migration.bound_secrets()
    assert secrets is not None
    return secrets["reviewer-key"], secrets.versions["reviewer-key"]


def test_without_a_rotation_aws_reads_the_definitions_version_and_local_the_test_value(backend):
    names, clients = backend
    assert bound(names, clients, local=False) == ("ssm-one", 1)
    assert bound(names, clients, local=True) == (names.migration.secret("reviewer-key").test_value, 1)


def test_after_a_rotation_both_read_the_recorded_version_from_ssm(backend):
    # Given reviewer-key rotated to version 2
    names, clients = backend
    store = PinStore(CheckpointStore(clients.dynamodb, names.checkpoints_table), names.migration)
    at = "2026-01-01T00:00:00Z"  # fixed-date: a record's time, never compared with the clock
    assert store.rotate(store.pin(names.migration.secret("reviewer-key")), 2, at, None, None)
    # Then a new reader, on AWS or locally, transforms with version 2's value
    assert bound(names, clients, local=False) == ("ssm-two", 2)
    assert bound(names, clients, local=True) == ("ssm-two", 2)


def test_a_local_backend_without_cutovers_tables_has_no_rotation(backend):
    names, clients = backend
    clients.dynamodb.delete_table(TableName=names.checkpoints_table)
    assert bound(names, clients, local=True)[1] == 1
