"""One cold-start helper for every Lambda: declared defaults applied alike, built once, never at import."""

from __future__ import annotations

import pytest

from cutover.coldstart import ColdStart
from cutover.environment import ALL_FUNCTIONS, REPLICATOR_ENV
from cutover.errors import ConfigError
from replicator.engine import ReplicatorConfig

REQUIRED = {
    "SERVICE": "my-service",
    "STAGE": "prod",
    "POWERTOOLS_SERVICE_NAME": "replicator",
    "SOURCE_TABLES": '{"orders": "o", "users": "u"}',
    "V3_TABLE": "v",
    "QUARANTINE_TABLE": "q",
    "CHECKPOINTS_TABLE": "c",
}


def test_replicator_config_applies_declared_defaults():
    # Given only the variables without a declared default (no LOG_LEVEL, no WRITE_CONCURRENCY)
    # When the config is read as at cold start
    config = ReplicatorConfig.from_env(REQUIRED)
    # Then the declared default is used instead of a ConfigError
    assert config.write_concurrency == 16


@pytest.mark.parametrize("spec", ALL_FUNCTIONS, ids=lambda s: s.function)
def test_every_function_fills_log_level_from_its_stage(spec):
    # Given a prod environment without LOG_LEVEL
    values = {v.name: "x" for v in spec.variables if v.required and not v.defaults} | {
        "STAGE": "prod",
        "SOURCE_TABLES": '{"users": "x"}',
    }
    # When loaded, Then LOG_LEVEL comes from the declared per-stage default
    assert spec.load(values)["LOG_LEVEL"] == "INFO"


def test_cold_start_builds_once_and_only_when_asked():
    # Given a helper whose builder counts its calls
    calls: list[dict[str, str]] = []
    cold = ColdStart(REPLICATOR_ENV, lambda env, clients: calls.append(env) or len(calls))
    # Then nothing is built before the first invocation
    assert cold.built is None and calls == []
    # When invoked twice, Then it is built once, with defaults applied and clients from the one factory
    assert cold.get(REQUIRED) == 1 and cold.get(REQUIRED) == 1
    assert calls[0]["WRITE_CONCURRENCY"] == "16"


def test_cold_start_names_every_bad_variable_and_caches_nothing():
    # Given an environment missing two tables and holding an unresolved placeholder
    bad = {**REQUIRED, "V3_TABLE": "${V3}"}
    del bad["SOURCE_TABLES"]
    cold = ColdStart(REPLICATOR_ENV, lambda env, clients: object())
    # When invoked, Then one ConfigError names each problem, and a later fixed environment still builds
    with pytest.raises(ConfigError) as err:
        cold.get(bad)
    assert all(name in str(err.value) for name in ("SOURCE_TABLES", "V3_TABLE"))
    assert cold.built is None
    assert cold.get(REQUIRED) is not None
