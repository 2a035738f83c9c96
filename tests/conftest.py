"""Shared fixtures. The moto server is started once per session on a free loopback port."""

from __future__ import annotations

import os
import uuid

import pytest

os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from cutover.clients import Clients
from cutover.settings import Settings
from cutover_cli.local_backend import LocalServer, init_backend


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
