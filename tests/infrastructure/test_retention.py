"""The retention check reads the SYNTHESIZED templates: no override, resource type or stage escapes it."""

from __future__ import annotations

import pytest
from aws_cdk import App, CfnResource, RemovalPolicy, Stack, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm

from infra.retention import PROTECTION_RULE, RETAIN_RULE, STATEFUL_TYPES, RetentionCheck, problems_in

pytestmark = pytest.mark.infra


def _app(tmp_path) -> tuple[App, Stack]:
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "my-service-prod-stateful")
    Validations.of(app).add_plugins(RetentionCheck("prod"))
    return app, stack


def _table(stack: Stack, construct_id: str = "Orphan") -> dynamodb.Table:
    return dynamodb.Table(
        stack,
        construct_id,
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        removal_policy=RemovalPolicy.RETAIN,
        deletion_protection=True,
    )


def test_override_of_a_retained_table_to_delete_fails_synthesis(tmp_path):
    # Given a table with RETAIN and deletion protection, overridden through the escape hatch
    app, stack = _app(tmp_path)
    table = _table(stack)
    table.node.default_child.add_override("DeletionPolicy", "Delete")
    # When it is synthesized, then synthesis fails (the aspect it replaces let this through)
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    assert RETAIN_RULE in report and "Orphan" in report


def test_table_without_deletion_protection_fails(tmp_path):
    app, stack = _app(tmp_path)
    table = _table(stack)
    table.node.default_child.add_property_override("DeletionProtectionEnabled", False)
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    assert PROTECTION_RULE in (tmp_path / "validation-report.json").read_text()


@pytest.mark.parametrize(
    "build",
    [
        lambda s: ssm.StringParameter(s, "Flag", string_value="legacy"),
        lambda s: logs.LogGroup(s, "Logs", removal_policy=RemovalPolicy.DESTROY),
        lambda s: s3.Bucket(s, "Bucket", removal_policy=RemovalPolicy.DESTROY),
        lambda s: sqs.Queue(s, "Queue", removal_policy=RemovalPolicy.DESTROY),
        lambda s: CfnResource(s, "Raw", type="AWS::DynamoDB::Table", properties={}),
    ],
    ids=["ssm-parameter", "log-group", "s3-bucket", "sqs-queue", "raw-cfn-table"],
)
def test_every_stateful_type_is_checked(build, tmp_path):
    app, stack = _app(tmp_path)
    build(stack)
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()


def test_retained_stateful_resources_pass(tmp_path):
    app, stack = _app(tmp_path)
    _table(stack)
    sqs.Queue(stack, "Queue", removal_policy=RemovalPolicy.RETAIN)
    logs.LogGroup(stack, "Logs", removal_policy=RemovalPolicy.RETAIN)
    assert app.synth().get_stack_by_name(stack.stack_name).template["Resources"]


def test_problems_in_is_pure_and_names_each_offender():
    template = {
        "Resources": {
            "T": {
                "Type": "AWS::DynamoDB::Table",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Snapshot",
                "Properties": {"DeletionProtectionEnabled": True},
            },
            "P": {"Type": "AWS::SSM::Parameter", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"},
            "F": {"Type": "AWS::Lambda::Function"},
        }
    }
    assert problems_in(template) == {RETAIN_RULE: ["T"], PROTECTION_RULE: []}
    assert {"AWS::SSM::Parameter", "AWS::Logs::LogGroup", "AWS::S3::Bucket", "AWS::SQS::Queue"} <= STATEFUL_TYPES


@pytest.mark.parametrize(
    "variant", ["staging", "prod", "staging@env", "prod@env", "staging@env+catalog", "prod+catalog"]
)
def test_the_real_staging_and_prod_apps_retain_everything(variant, synth_stage):
    # Given the real stacks (synthesized with the plugin attached; it would have raised)
    synth = synth_stage(variant)
    # Then, read back from the templates, nothing stateful can be deleted
    for template in synth.templates.values():
        assert problems_in(template) == {RETAIN_RULE: [], PROTECTION_RULE: []}
    tables = synth.resources("AWS::DynamoDB::Table")
    assert tables and all(t["Properties"]["DeletionProtectionEnabled"] is True for _, t in tables)


def test_the_real_prod_app_refuses_the_override_escape_hatch(runbook_app):
    # Given the real prod app, with the v3 table's DeletionPolicy overridden after RETAIN was applied
    app, stacks = runbook_app("prod")
    stacks["stateful"].v3.node.default_child.add_override("DeletionPolicy", "Delete")
    # When it is synthesized, then synthesis fails naming the v3 table
    with pytest.raises(Exception, match="ValidationFailed") as error:
        app.synth()
    assert "V3Table" in str(error.value) and RETAIN_RULE in str(error.value)
