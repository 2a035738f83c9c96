"""CDK context validation: every missing or malformed value named at once, dev defaults dev-only,
legacy tables per source role of the migration definition the context selects."""

from __future__ import annotations

import json

import pytest

from cutover.errors import ConfigError
from infra.config import StageConfig

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/{}/stream/2025-01-01T00:00:00.000"
GOOD = {
    "stage": "staging",
    "service": "my-service",
    "legacyTables": {"users": "users-tbl", "orders": "orders-tbl"},
    "legacyStreamArns": {"users": ARN.format("users-tbl"), "orders": ARN.format("orders-tbl")},
    "costCenter": "cc",
}
DEV_DEFAULTS = {k: v for k, v in GOOD.items() if k not in ("stage", "service")}
CATALOG = {
    **GOOD,
    "migration": "migrations.catalog:MIGRATION",
    "legacyTables": {"products": "products-tbl", "reviews": "reviews-tbl"},
    "legacyStreamArns": {"products": ARN.format("products-tbl"), "reviews": ARN.format("reviews-tbl")},
}


def test_valid_context_builds_a_config():
    config = StageConfig.from_context({**GOOD, "parallelizationFactor": "3", "vpc": "true"}.get)
    assert (config.stage, config.parallelization_factor, config.vpc) == ("staging", 3, True)
    assert config.legacy_table_arn("users") == "arn:aws:dynamodb:eu-west-1:123456789012:table/users-tbl"
    # the seed is the default definition: the Lambdas need no CUTOVER_MIGRATION, and its API is deployed
    assert config.roles == ("users", "orders") and config.migration_spec is None and config.api is True
    assert config.source_tables() == {"users": "users-tbl", "orders": "orders-tbl"}
    assert config.names.source_table("orders") == "orders-tbl"


def test_every_missing_value_is_named_in_one_error():
    # Given a prod deploy that forgot the legacy values
    context = {"stage": "prod", "service": "my-service"}
    # When the config is built
    with pytest.raises(ConfigError) as error:
        StageConfig.from_context(context.get)
    # Then one error names each missing key (per source role of the migration) and how to pass it
    message = str(error.value)
    for key in (
        "legacyTables.users",
        "legacyTables.orders",
        "legacyStreamArns.users",
        "legacyStreamArns.orders",
        "costCenter",
    ):
        assert f"{key} is missing" in message
    assert "-c KEY=VALUE" in message


def test_malformed_values_are_named():
    context = {
        **GOOD,
        "legacyStreamArns": {**GOOD["legacyStreamArns"], "users": "arn:aws:dynamodb:eu-west-1:123:table/x"},
        "parallelizationFactor": "11",
        "alarmEmail": "not-an-address",
        "vpc": "maybe",
        "stage": "QA",
    }
    with pytest.raises(ConfigError) as error:
        StageConfig.from_context(context.get)
    message = str(error.value)
    assert "legacyStreamArns.users='arn:aws:dynamodb:eu-west-1:123:table/x' is malformed" in message
    assert "parallelizationFactor='11' must be an integer from 1 to 10" in message
    assert "alarmEmail='not-an-address'" in message and "vpc='maybe'" in message
    assert "stage='QA' is malformed (expected 1-40 lower-case letters, digits and '-'" in message


def test_stream_of_another_table_is_refused():
    context = {**GOOD, "legacyStreamArns": {**GOOD["legacyStreamArns"], "orders": ARN.format("users-tbl")}}
    with pytest.raises(
        ConfigError, match="legacyStreamArns.orders belongs to table 'users-tbl', not legacyTables.orders='orders-tbl'"
    ):
        StageConfig.from_context(context.get)


def test_dev_defaults_apply_only_to_dev():
    # Given cdk.json-style dev defaults
    context = {"service": "my-service", "devDefaults": DEV_DEFAULTS}
    # Then dev uses them...
    assert StageConfig.from_context({**context, "stage": "dev"}.get).legacy_table("users") == "users-tbl"
    # ...but a staging deploy that forgot its own values fails instead of inheriting dev's
    with pytest.raises(ConfigError, match="legacyStreamArns.users is missing"):
        StageConfig.from_context({**context, "stage": "staging"}.get)


def test_a_guessed_powertools_layer_version_is_refused():
    # The layer follows the pinned aws-lambda-powertools version; a -c override would ship another one
    with pytest.raises(ConfigError, match="powertoolsLayerVersion is no longer accepted"):
        StageConfig.from_context({**GOOD, "powertoolsLayerVersion": "27"}.get)


@pytest.mark.parametrize(
    "stage,stage_class,expected",
    [
        ("dev", None, "development"),
        ("development", None, "development"),
        ("staging", None, "staging"),
        ("stage", None, "staging"),
        ("prod", None, "production"),
        ("production", None, "production"),
        ("qa", "development", "development"),
        ("qa", "Staging", "staging"),
        ("live", None, "production"),  # a name the mapping does not know: production's safety, never less
        ("prod-eu", None, "production"),
        ("qa", None, "production"),
        ("prod", "production", "production"),
    ],
)
def test_any_stage_name_gets_its_class_from_the_setting_else_the_mapping_else_production(stage, stage_class, expected):
    context = {**GOOD, "stage": stage, **({"stageClass": stage_class} if stage_class else {})}
    config = StageConfig.from_context(context.get)
    assert (config.stage, config.stage_class) == (stage, expected)
    assert config.retain is (expected != "development") and config.is_prod is (expected == "production")


@pytest.mark.parametrize(
    "context,needle",
    [
        ({"stageClass": "prod"}, "stageClass='prod' is not one of development|staging|production"),
        ({"stage": "prod", "stageClass": "development"}, "stage 'prod' is a production stage: its class cannot be"),
        ({"stage": "production", "stageClass": "staging"}, "stage 'production' is a production stage"),
        (
            {"stage": "a-stage-name-of-thirty-two-chars"},
            "make the name prefix 'my-service-a-stage-name-of-thirty-two-chars' (43 characters): the longest it "
            "may be is 42, since the AWS Backup vault is named <prefix>-cutover (at most 50 characters)",
        ),
        ({"stage": "Live"}, "stage='Live' is malformed (expected 1-40 lower-case letters"),
        ({"stage": "x" * 41}, "is malformed (expected 1-40"),
    ],
)
def test_a_stage_or_class_that_cannot_be_deployed_is_named(context, needle):
    with pytest.raises(ConfigError) as error:
        StageConfig.from_context({**GOOD, **context}.get)
    assert needle in str(error.value)


def test_the_longest_prefix_follows_from_every_derived_resource_name():
    # The prefix <service>-<stage> may be 42 characters: the backup vault (<prefix>-cutover, 50) is the
    # tightest of the names the stacks derive from it (queues 80, state machines 80, stacks 128, tables 255)
    from cutover.stages import DERIVED_NAMES, MAX_PREFIX

    assert MAX_PREFIX == 42
    assert min(limit - len(suffix) for _, suffix, limit, _ in DERIVED_NAMES) == MAX_PREFIX
    longest = {**GOOD, "service": "s" * 20, "stage": "t" * 21}  # 20 + 1 + 21 = 42
    assert StageConfig.from_context(longest.get).names.prefix == "s" * 20 + "-" + "t" * 21


def test_the_seeds_per_table_keys_are_refused_naming_the_per_role_ones():
    # An old command line (-c legacyUsersTable=...) fails loudly instead of being ignored
    with pytest.raises(ConfigError, match="legacyUsersTable is no longer accepted.*legacyTables=ROLE=TABLE"):
        StageConfig.from_context({**GOOD, "legacyUsersTable": "users-tbl"}.get)


@pytest.mark.parametrize(
    "tables, streams",
    [
        # what a shell passes with -c: ROLE=VALUE,ROLE=VALUE
        ("users=users-tbl,orders=orders-tbl", f"users={ARN.format('users-tbl')},orders={ARN.format('orders-tbl')}"),
        # or a JSON object (-c 'legacyTables={"users": ...}')
        (json.dumps(GOOD["legacyTables"]), json.dumps(GOOD["legacyStreamArns"])),
    ],
    ids=["role=value", "json"],
)
def test_per_role_values_can_be_given_as_text(tables, streams):
    config = StageConfig.from_context({**GOOD, "legacyTables": tables, "legacyStreamArns": streams}.get)
    assert config.legacy_tables == (("users", "users-tbl"), ("orders", "orders-tbl"))
    assert config.legacy_stream_arn("orders") == ARN.format("orders-tbl")


def test_a_role_the_migration_does_not_have_is_refused_and_one_table_serves_one_role():
    context = {**GOOD, "legacyTables": {**GOOD["legacyTables"], "user": "x-tbl"}}
    with pytest.raises(ConfigError, match="legacyTables names 'user', not a source of migration 'seed'"):
        StageConfig.from_context(context.get)
    shared = {**GOOD, "legacyTables": {"users": "users-tbl", "orders": "users-tbl"}}
    with pytest.raises(ConfigError, match="legacyTables gives 'users-tbl' to users and orders"):
        StageConfig.from_context(shared.get)
    with pytest.raises(ConfigError, match="legacyTables='users' is malformed"):
        StageConfig.from_context({**GOOD, "legacyTables": "users"}.get)


def test_the_migration_context_selects_the_definition_and_its_roles():
    # Given the catalog definition chosen by -c migration=
    config = StageConfig.from_context(CATALOG.get)
    # Then its roles are the sources, the Lambdas are told which definition to load, and the seed's
    # example API is left out
    assert config.roles == ("products", "reviews") and config.migration.name == "catalog"
    assert config.migration_spec == "migrations.catalog:MIGRATION" and config.migration_module == "migrations.catalog"
    assert config.api is False
    assert config.names.v3_table == "my-service-staging-catalog"
    # the API is still there when asked for, and can be left out for the seed
    assert StageConfig.from_context({**CATALOG, "api": "true"}.get).api is True
    assert StageConfig.from_context({**GOOD, "api": "false"}.get).api is False
    # naming the seed explicitly is the default: no CUTOVER_MIGRATION
    assert StageConfig.from_context({**GOOD, "migration": "migrations.seed:MIGRATION"}.get).migration_spec is None


def test_dev_defaults_for_the_seed_do_not_leak_into_another_migration():
    # cdk.json's dev defaults name the seed's roles: the catalog in dev must name its own tables
    context = {"stage": "dev", "service": "my-service", "migration": CATALOG["migration"], "devDefaults": DEV_DEFAULTS}
    with pytest.raises(ConfigError) as error:
        StageConfig.from_context(context.get)
    message = str(error.value)
    assert "legacyTables.products is missing" in message and "legacyStreamArns.reviews is missing" in message
    assert "not a source of migration" not in message  # the defaults' users/orders are not a typo


def test_a_migration_that_cannot_be_loaded_is_one_problem_among_the_others():
    with pytest.raises(ConfigError) as error:
        StageConfig.from_context({**GOOD, "migration": "no_such_package:MIGRATION", "vpc": "maybe"}.get)
    message = str(error.value)
    assert "migration: " in message and "no module named 'no_such_package'" in message and "vpc='maybe'" in message


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, (20, 10)),
        ({"backfillMaxConcurrency": "4"}, (8, 4)),
        ({"segmentReservedConcurrency": "off"}, (None, None)),
        ({"backfillMaxConcurrency": "4", "segmentReservedConcurrency": "20"}, (20, 20)),
    ],
)
def test_the_segments_reserved_concurrency_follows_the_map_unless_set_apart(given, expected):
    # Given the seed's two sources: a backfill run is one execution per source, each a Map of
    # backfillMaxConcurrency (issue 20, major 3); a reconcile run is one Map. `off`: low-quota accounts
    config = StageConfig.from_context({**GOOD, **given}.get)
    assert (config.segment_reserved_concurrency, config.reconcile_reserved_concurrency) == expected


@pytest.mark.parametrize("value", ["5", "19", "1001", "lots", "-1"])
def test_a_reservation_below_what_one_backfill_run_invokes_is_refused_naming_why(value):
    # Given two sources x a Map of 10: fewer than 20 would throttle `--table all` out of its retries
    with pytest.raises(ConfigError, match=rf"segmentReservedConcurrency='{value}' must be off or an integer from.*20"):
        StageConfig.from_context({**GOOD, "segmentReservedConcurrency": value}.get)
