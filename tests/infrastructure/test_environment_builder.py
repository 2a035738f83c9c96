"""The environment builder: same declarations as the handlers' cold-start check, tokens allowed."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Aws, Stack

from cutover.environment import API_ENV, REPLICATOR_ENV
from cutover.errors import ConfigError
from infra.environment import build_environment

pytestmark = pytest.mark.infra  # needs aws_cdk (jsii), though it synthesizes nothing

API_BASE = {
    "SERVICE": "my-service",
    "STAGE": "prod",
    "POWERTOOLS_SERVICE_NAME": "my-service",
    "SOURCE_TABLES": '{"orders": "o", "users": "u"}',
    "V3_TABLE": "v3",
}
BASE = {
    "SERVICE": "my-service",
    "STAGE": "prod",
    "POWERTOOLS_SERVICE_NAME": "my-service",
    "SOURCE_TABLES": '{"orders": "o", "users": "u"}',
    "V3_TABLE": "v3",
    "QUARANTINE_TABLE": "q",
    "CHECKPOINTS_TABLE": "c",  # the replicator reports what it applied there (REPLICATOR_ENV)
}


def test_stage_class_defaults_are_applied():
    env = build_environment(REPLICATOR_ENV, BASE, "production")
    assert env["LOG_LEVEL"] == "INFO" and env["WRITE_CONCURRENCY"] == "16"
    assert build_environment(REPLICATOR_ENV, {**BASE, "STAGE": "qa"}, "development")["LOG_LEVEL"] == "DEBUG"


@pytest.mark.parametrize(
    "stage,stage_class,level",
    [("dev", None, "DEBUG"), ("qa", "development", "DEBUG"), ("qa", None, "INFO"), ("live", "staging", "INFO")],
)
def test_cold_start_defaults_follow_the_stage_class_else_the_known_name_else_production(stage, stage_class, level):
    values = {**BASE, "STAGE": stage, **({"STAGE_CLASS": stage_class} if stage_class else {})}
    assert REPLICATOR_ENV.load(values)["LOG_LEVEL"] == level


def test_a_bad_stage_class_is_named_at_cold_start():
    with pytest.raises(ConfigError, match="STAGE_CLASS='prod' is malformed"):
        REPLICATOR_ENV.load({**BASE, "STAGE_CLASS": "prod"})


def test_every_missing_variable_is_named():
    # Given an environment without two required tables
    values = {k: v for k, v in BASE.items() if k not in ("V3_TABLE", "QUARANTINE_TABLE")}
    # When it is built
    with pytest.raises(ConfigError) as error:
        build_environment(REPLICATOR_ENV, values, "production")
    # Then both are named in one error
    assert "V3_TABLE is missing" in str(error.value) and "QUARANTINE_TABLE is missing" in str(error.value)


def test_literal_placeholder_is_rejected():
    with pytest.raises(ConfigError, match=r"V3_TABLE='\$\{V3_TABLE_NAME\}' still contains an unresolved"):
        build_environment(REPLICATOR_ENV, {**BASE, "V3_TABLE": "${V3_TABLE_NAME}"}, "production")


def test_cdk_tokens_are_real_values_not_placeholders():
    # Given a value CloudFormation resolves at deploy time (stringifies as ${Token[...]})
    stack = Stack(App(), "S")
    token = stack.format_arn(service="secretsmanager", resource="secret", resource_name="/prod/s/cutover/app")
    assert "${Token[" in token
    # Then it passes, while a literal placeholder glued to a token does not
    env = build_environment(
        API_ENV,
        {**API_BASE, "REPORTS_TABLE": "s-prod-cutover-reports", "APP_SECRET_ARN": token},
        "production",
    )
    assert env["APP_SECRET_ARN"] == token
    with pytest.raises(ConfigError, match="APP_SECRET_ARN"):
        build_environment(
            API_ENV, {**API_BASE, "REPORTS_TABLE": "p", "APP_SECRET_ARN": token + "${SUFFIX}"}, "production"
        )


def test_undeclared_variable_is_rejected():
    with pytest.raises(ConfigError, match="V3_TABEL is not declared for replicator"):
        build_environment(REPLICATOR_ENV, {**BASE, "V3_TABEL": "typo"}, "production")


def test_source_tables_must_be_a_json_object_of_table_names():
    with pytest.raises(ConfigError, match="SOURCE_TABLES='users=u' is malformed"):
        build_environment(REPLICATOR_ENV, {**BASE, "SOURCE_TABLES": "users=u"}, "production")
    with pytest.raises(ConfigError, match="CUTOVER_MIGRATION='not a spec' is malformed"):
        build_environment(REPLICATOR_ENV, {**BASE, "CUTOVER_MIGRATION": "not a spec"}, "production")


def test_source_tables_with_a_token_name_is_rendered_by_the_stack():
    # Given a legacy table name CloudFormation resolves at deploy time
    from infra.constructs.function import source_tables_value

    stack = Stack(App(), "S")
    token = f"{Aws.STACK_NAME}-users"
    # Then SOURCE_TABLES is built by the stack (json.dumps would freeze the token's placeholder text)...
    value = source_tables_value(stack, {"users": token, "orders": "o"})
    assert stack.resolve(value) == {
        "Fn::Join": ["", ['{"orders":"o","users":"', {"Ref": "AWS::StackName"}, '-users"}']]
    }
    # ...it passes the builder (a token is a real value), and literal names stay plain sorted JSON
    assert build_environment(REPLICATOR_ENV, {**BASE, "SOURCE_TABLES": value}, "production")["SOURCE_TABLES"] == value
    assert source_tables_value(stack, {"users": "u", "orders": "o"}) == json.dumps({"orders": "o", "users": "u"})
