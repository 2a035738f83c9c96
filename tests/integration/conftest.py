"""Integration fixtures: the deployed replicator Lambda, as a container would run it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from replicator import handler

FUNCTION = "my-service-dev-cutover-replicator"


@pytest.fixture
def lambda_context() -> SimpleNamespace:
    """What Lambda passes as `context` (Powertools' inject_lambda_context reads these)."""
    return SimpleNamespace(
        function_name=FUNCTION,
        memory_limit_in_mb=256,
        invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}",
        aws_request_id="7f0c2a4e-0000-4000-8000-000000000003",
    )


@pytest.fixture
def deployed_replicator(settings, monkeypatch) -> Iterator[Callable[[dict[str, Any], Any], dict[str, Any]]]:
    """`replicator.handler.lambda_handler` in a fresh container with the environment CDK gives it."""
    n = settings.names
    env = {
        "SERVICE": settings.service,
        "STAGE": "dev",
        "POWERTOOLS_SERVICE_NAME": "cutover-replicator",
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
        "SOURCE_TABLES": json.dumps({"users": n.source_table("users"), "orders": n.source_table("orders")}),
        "V3_TABLE": n.v3_table,
        "QUARANTINE_TABLE": n.quarantine_table,
        "CHECKPOINTS_TABLE": n.checkpoints_table,
        "CUTOVER_ENDPOINT_URL": settings.endpoint_url,
        "AWS_REGION": "us-east-1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    handler.cold_start.reset()
    yield handler.lambda_handler
    if handler.cold_start.built is not None:
        handler.cold_start.built.close()
    handler.cold_start.reset()


@pytest.fixture(scope="session")
def lambda_build_dir(tmp_path_factory) -> Iterator[Any]:
    """Where this session's synths (the rehearsal's) bundle the Lambda code, not build/ in the
    checkout; set only while a synth runs (tests/integration/rehearsal.py)."""
    yield tmp_path_factory.mktemp("rehearsal-lambda-build")
