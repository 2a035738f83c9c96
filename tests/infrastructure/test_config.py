"""CDK context validation: every missing or malformed value named at once, dev defaults dev-only."""

from __future__ import annotations

import pytest

from cutover.errors import ConfigError
from infra.config import StageConfig

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/{}/stream/2025-01-01T00:00:00.000"
GOOD = {
    "stage": "staging",
    "service": "my-service",
    "legacyUsersTable": "u",
    "legacyOrdersTable": "o",
    "legacyUsersStreamArn": ARN.format("users-tbl"),
    "legacyOrdersStreamArn": ARN.format("orders-tbl"),
    "costCenter": "cc",
}
GOOD = {**GOOD, "legacyUsersTable": "users-tbl", "legacyOrdersTable": "orders-tbl"}
DEV_DEFAULTS = {k: v for k, v in GOOD.items() if k not in ("stage", "service")}


def test_valid_context_builds_a_config():
    config = StageConfig.from_context({**GOOD, "parallelizationFactor": "3", "vpc": "true"}.get)
    assert (config.stage, config.parallelization_factor, config.vpc) == ("staging", 3, True)
    assert (
        config.legacy_table_arn(config.legacy_users_stream_arn)
        == "arn:aws:dynamodb:eu-west-1:123456789012:table/users-tbl"
    )


def test_every_missing_value_is_named_in_one_error():
    # Given a prod deploy that forgot the legacy values
    context = {"stage": "prod", "service": "my-service"}
    # When the config is built
    with pytest.raises(ConfigError) as error:
        StageConfig.from_context(context.get)
    # Then one error names each missing key and how to pass it
    message = str(error.value)
    for key in ("legacyUsersTable", "legacyOrdersTable", "legacyUsersStreamArn", "legacyOrdersStreamArn", "costCenter"):
        assert f"{key} is missing" in message
    assert "-c KEY=VALUE" in message


def test_malformed_values_are_named():
    context = {
        **GOOD,
        "legacyUsersStreamArn": "arn:aws:dynamodb:eu-west-1:123:table/x",
        "parallelizationFactor": "11",
        "alarmEmail": "not-an-address",
        "vpc": "maybe",
        "stage": "QA",
    }
    with pytest.raises(ConfigError) as error:
        StageConfig.from_context(context.get)
    message = str(error.value)
    assert "legacyUsersStreamArn='arn:aws:dynamodb:eu-west-1:123:table/x' is malformed" in message
    assert "parallelizationFactor='11' must be an integer from 1 to 10" in message
    assert "alarmEmail='not-an-address'" in message and "vpc='maybe'" in message
    assert "stage='QA' is malformed (expected 1-40 lower-case letters, digits and '-'" in message


def test_stream_of_another_table_is_refused():
    context = {**GOOD, "legacyOrdersStreamArn": ARN.format("users-tbl")}
    with pytest.raises(
        ConfigError, match="legacyOrdersStreamArn belongs to table 'users-tbl', not legacyOrdersTable='orders-tbl'"
    ):
        StageConfig.from_context(context.get)


def test_dev_defaults_apply_only_to_dev():
    # Given cdk.json-style dev defaults
    context = {"service": "my-service", "devDefaults": DEV_DEFAULTS}
    # Then dev uses them...
    assert StageConfig.from_context({**context, "stage": "dev"}.get).legacy_users_table == "users-tbl"
    # ...but a staging deploy that forgot its own values fails instead of inheriting dev's
    with pytest.raises(ConfigError, match="legacyUsersStreamArn is missing"):
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
