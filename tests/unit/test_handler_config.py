"""ReplicatorConfig: built from Names or from the Lambda environment, validated at cold start."""

from __future__ import annotations

import pytest

from cutover.errors import ConfigError
from cutover.names import Names
from replicator.engine import ReplicatorConfig

GOOD_ENV = {
    "SERVICE": "my-service",
    "STAGE": "dev",
    "POWERTOOLS_SERVICE_NAME": "replicator",
    "LOG_LEVEL": "INFO",
    "USERS_TABLE": "my-service-dev-users",
    "ORDERS_TABLE": "my-service-dev-orders",
    "V3_TABLE": "my-service-dev-users-v3",
    "QUARANTINE_TABLE": "my-service-dev-cutover-quarantine",
    "CHECKPOINTS_TABLE": "my-service-dev-cutover-checkpoints",
    "WRITE_CONCURRENCY": "8",
}


def test_from_env_reads_every_table_and_concurrency():
    config = ReplicatorConfig.from_env(GOOD_ENV)
    assert config == ReplicatorConfig(
        "my-service-dev-users",
        "my-service-dev-orders",
        "my-service-dev-users-v3",
        "my-service-dev-cutover-quarantine",
        8,
    )
    assert config.sources == {"my-service-dev-users": "users", "my-service-dev-orders": "orders"}


def test_from_names_matches_contract_defaults():
    assert ReplicatorConfig.from_names(Names()) == ReplicatorConfig.from_env({**GOOD_ENV, "WRITE_CONCURRENCY": "16"})


def test_from_env_names_every_missing_variable():
    # Given an empty environment, When validated, Then every required variable is named, except
    # WRITE_CONCURRENCY, whose declared default ("*": 16) applies in every stage (issue 8: declared
    # defaults are applied alike by every handler), and LOG_LEVEL, whose default follows the stage
    # class: with STAGE missing (itself named), production's (cutover.stages: unknown -> production)
    with pytest.raises(ConfigError) as caught:
        ReplicatorConfig.from_env({})
    for name in GOOD_ENV:
        if name not in ("WRITE_CONCURRENCY", "LOG_LEVEL"):
            assert f"{name} is missing" in str(caught.value)
    assert "WRITE_CONCURRENCY" not in str(caught.value) and "LOG_LEVEL" not in str(caught.value)


def test_from_env_rejects_placeholders_and_malformed_values():
    env = {**GOOD_ENV, "USERS_TABLE": "${UsersTable}", "WRITE_CONCURRENCY": "0"}
    with pytest.raises(ConfigError) as caught:
        ReplicatorConfig.from_env(env)
    assert "USERS_TABLE='${UsersTable}' still contains an unresolved ${...} placeholder" in str(caught.value)
    assert "WRITE_CONCURRENCY='0' is malformed (expected a positive integer)" in str(caught.value)


def test_direct_construction_validates_too():
    with pytest.raises(ConfigError, match="write_concurrency must be a positive integer"):
        ReplicatorConfig("u", "o", "v", "q", write_concurrency=0)
    with pytest.raises(ConfigError, match="must differ"):
        ReplicatorConfig("t", "t", "v", "q")
