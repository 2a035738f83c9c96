"""Shared fixtures and the test layers.

Layers are folders, and each folder carries its marker (added here, so the two cannot drift):
  unit/ -> unit, properties/ -> properties (in-process moto at most, no server, no CDK),
  integration/ -> server (the moto server over HTTP), e2e/ -> server + e2e (the CLI end to end,
  subprocesses), infrastructure/ -> infra (synthesizes the CDK app).
`make unit`, `make integration`, `make e2e` and `make infra` run one layer each; `make test` runs all.
The moto server is started once per session on a free loopback port.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from cutover.clients import Clients
from cutover.settings import Settings
from cutover_cli.local_backend import LocalServer, init_backend

LAYER_MARKERS = {
    "unit": ("unit",),
    "properties": ("properties",),
    "integration": ("server",),
    "e2e": ("server", "e2e"),
    "infrastructure": ("infra",),
}
IN_PROCESS_LAYERS = ("unit", "properties")
TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test by its folder, and refuse a server test in a layer that must not need one."""
    for item in items:
        layer = Path(item.fspath).resolve().relative_to(TESTS).parts[0]
        for marker in LAYER_MARKERS.get(layer, ()):
            item.add_marker(marker)
        if layer in IN_PROCESS_LAYERS and "moto_server" in getattr(item, "fixturenames", ()):
            raise pytest.UsageError(f"{item.nodeid} uses the moto server: move it to tests/integration or tests/e2e")


@pytest.fixture
def aws_memory() -> Iterator[tuple[Settings, Clients]]:
    """In-process moto (no server) with every cutover and legacy table created: the unit layer's backend."""
    from moto import mock_aws

    with mock_aws():
        settings = Settings(service="unit", region="us-east-1")
        clients = Clients(settings)
        create_tables(clients, settings)
        yield settings, clients


def create_tables(clients: Clients, settings: Settings) -> None:
    """Every table `cutover.names` declares (legacy, v3, cutover's own), as `cutover init` would."""
    for spec in settings.names.all_specs():
        clients.dynamodb.create_table(**spec.create_table_kwargs())


@pytest.fixture(scope="session")
def moto_server():
    """A real HTTP endpoint (moto server) for integration tests."""
    with LocalServer() as server:
        yield server


@pytest.fixture
def settings(moto_server) -> Settings:
    """Fresh, isolated resources per test: a unique service name on the shared server."""
    s = Settings(
        service=f"t{uuid.uuid4().hex[:10]}", stage="dev", region="us-east-1", endpoint_url=moto_server.endpoint_url
    )
    init_backend(s)
    return s


@pytest.fixture
def clients(settings) -> Clients:
    return Clients(settings)
