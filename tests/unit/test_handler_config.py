"""ReplicatorConfig: built from Names or from the Lambda environment, validated at cold start."""

from __future__ import annotations

import pytest

from cutover.errors import ConfigError
from cutover.migration_loader import load_migration
from cutover.names import Names
from replicator.engine import ReplicatorConfig

SEED = load_migration("migrations.seed:MIGRATION")

GOOD_ENV = {
    "SERVICE": "my-service",
    "STAGE": "dev",
    "POWERTOOLS_SERVICE_NAME": "replicator",
    "LOG_LEVEL": "INFO",
    "SOURCE_TABLES": '{"orders": "my-service-dev-orders", "users": "my-service-dev-users"}',
    "V3_TABLE": "my-service-dev-users-v3",
    "QUARANTINE_TABLE": "my-service-dev-cutover-quarantine",
    "CHECKPOINTS_TABLE": "my-service-dev-cutover-checkpoints",
    "WRITE_CONCURRENCY": "8",
}


def test_from_env_reads_every_table_and_concurrency():
    config = ReplicatorConfig.from_env(GOOD_ENV)
    assert config == ReplicatorConfig(
        (("orders", "my-service-dev-orders"), ("users", "my-service-dev-users")),
        "my-service-dev-users-v3",
        "my-service-dev-cutover-quarantine",
        SEED,
        8,
    )
    assert config.sources == {"my-service-dev-users": "users", "my-service-dev-orders": "orders"}


def test_from_names_matches_contract_defaults():
    from_names = ReplicatorConfig.from_names(Names())
    from_env = ReplicatorConfig.from_env({**GOOD_ENV, "WRITE_CONCURRENCY": "16"})
    assert from_names.sources == from_env.sources and from_names.v3_table == from_env.v3_table
    assert from_names.quarantine_table == from_env.quarantine_table
    assert from_names.write_concurrency == from_env.write_concurrency


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
    env = {**GOOD_ENV, "V3_TABLE": "${TargetTable}", "WRITE_CONCURRENCY": "0"}
    with pytest.raises(ConfigError) as caught:
        ReplicatorConfig.from_env(env)
    assert "V3_TABLE='${TargetTable}' still contains an unresolved ${...} placeholder" in str(caught.value)
    assert "WRITE_CONCURRENCY='0' is malformed (expected a positive integer)" in str(caught.value)


def test_direct_construction_validates_too():
    with pytest.raises(ConfigError, match="write_concurrency must be a positive integer"):
        ReplicatorConfig((("users", "u"), ("orders", "o")), "v", "q", SEED, write_concurrency=0)
    with pytest.raises(ConfigError, match="each source needs its own legacy table"):
        ReplicatorConfig((("users", "t"), ("orders", "t")), "v", "q", SEED)
    with pytest.raises(ConfigError, match="give one table per source"):
        ReplicatorConfig((("users", "u"),), "v", "q", SEED)


def test_source_tables_must_be_a_json_object_of_table_names():
    with pytest.raises(ConfigError, match="SOURCE_TABLES='users' is malformed"):
        ReplicatorConfig.from_env({**GOOD_ENV, "SOURCE_TABLES": "users"})
