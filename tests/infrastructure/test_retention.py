"""The retention check reads the SYNTHESIZED templates: no override, resource type or stage escapes it."""

from __future__ import annotations

import json
import re
from pathlib import Path

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


def _violations(synth) -> set[tuple[str, str]]:
    """(rule, construct path) of every violation the retention check reports, read from the validation
    report a failing synthesis names (other validation plugins' findings are not counted)."""
    with pytest.raises(RuntimeError, match="^ValidationFailed") as error:
        synth()
    path = re.search(r"A copy of this report can be found in: (\S+)", str(error.value))
    assert path, str(error.value)
    report = json.loads(Path(path.group(1)).read_text())
    return {
        (violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        if plugin["pluginName"] == RetentionCheck("prod").name
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    }


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
    # When it is synthesized, then synthesis fails on that table's retention alone (the aspect it
    # replaces let this through)
    assert _violations(app.synth) == {(RETAIN_RULE, "my-service-prod-stateful/Orphan/Resource")}


def test_table_without_deletion_protection_fails(tmp_path):
    app, stack = _app(tmp_path)
    table = _table(stack)
    table.node.default_child.add_property_override("DeletionProtectionEnabled", False)
    assert _violations(app.synth) == {(PROTECTION_RULE, "my-service-prod-stateful/Orphan/Resource")}


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda s: ssm.StringParameter(s, "Flag", string_value="legacy"), {(RETAIN_RULE, "Flag/Resource")}),
        (lambda s: logs.LogGroup(s, "Logs", removal_policy=RemovalPolicy.DESTROY), {(RETAIN_RULE, "Logs/Resource")}),
        (lambda s: s3.Bucket(s, "Bucket", removal_policy=RemovalPolicy.DESTROY), {(RETAIN_RULE, "Bucket/Resource")}),
        (lambda s: sqs.Queue(s, "Queue", removal_policy=RemovalPolicy.DESTROY), {(RETAIN_RULE, "Queue/Resource")}),
        (
            lambda s: CfnResource(s, "Raw", type="AWS::DynamoDB::Table", properties={}),
            {(RETAIN_RULE, "Raw"), (PROTECTION_RULE, "Raw")},
        ),
    ],
    ids=["ssm-parameter", "log-group", "s3-bucket", "sqs-queue", "raw-cfn-table"],
)
def test_every_stateful_type_is_checked(build, expected, tmp_path):
    app, stack = _app(tmp_path)
    build(stack)
    # Then synthesis fails naming that resource and the rule it breaks, and nothing else
    assert _violations(app.synth) == {(rule, f"{stack.stack_name}/{path}") for rule, path in expected}


def test_retained_stateful_resources_pass(tmp_path):
    app, stack = _app(tmp_path)
    _table(stack)
    sqs.Queue(stack, "Queue", removal_policy=RemovalPolicy.RETAIN)
    logs.LogGroup(stack, "Logs", removal_policy=RemovalPolicy.RETAIN)
    assert app.synth().get_stack_by_name(stack.stack_name).template["Resources"]


def test_retain_except_on_create_passes_and_keeps_state_through_every_later_operation(tmp_path):
    """RetainExceptOnCreate deletes a resource only when the stack operation that CREATED it rolls
    back (it is then new and empty); every later deletion or replacement keeps it, as Retain does:
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
    """
    # Given a queue and a parameter removed by RETAIN_ON_UPDATE_OR_DELETE outside dev
    app, stack = _app(tmp_path)
    sqs.Queue(stack, "Queue", removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
    ssm.StringParameter(stack, "Names", string_value="{}").apply_removal_policy(
        RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
    )
    # When it is synthesized, then the check passes and a replacement still keeps the old resource
    resources = app.synth().get_stack_by_name(stack.stack_name).template["Resources"]
    assert {(r["DeletionPolicy"], r["UpdateReplacePolicy"]) for r in resources.values()} == {
        ("RetainExceptOnCreate", "Retain")
    }


@pytest.mark.parametrize(
    ("deletion", "replace", "offends"),
    [
        ("RetainExceptOnCreate", "Retain", False),
        ("Retain", "Retain", False),
        ("RetainExceptOnCreate", "Delete", True),  # a replacing change would delete the old one
        ("RetainExceptOnCreate", "RetainExceptOnCreate", True),  # not a valid UpdateReplacePolicy
        ("Delete", "Retain", True),
        ("Snapshot", "Retain", True),
        (None, "Retain", True),  # absent: CloudFormation deletes
    ],
)
def test_only_retain_or_retain_except_on_create_pass_and_replacement_must_retain(deletion, replace, offends):
    # Given a queue with these policies in a synthesized template
    queue: dict[str, object] = {"Type": "AWS::SQS::Queue", "UpdateReplacePolicy": replace}
    if deletion is not None:
        queue["DeletionPolicy"] = deletion
    # When it is checked, then it offends exactly when a deletion or a replacement could lose its data
    assert problems_in({"Resources": {"Q": queue}})[RETAIN_RULE] == (["Q"] if offends else [])


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


# What a rollback of a failed first create does with each stateful type (infra.retention.retained_unless_new)
FIRST_CREATE_ROLLBACK = {
    "AWS::DynamoDB::Table": "Retain",  # deletion protection would fail the rollback; ordered after the check
    "Custom::ReadSourceFlag": "Retain",  # created only if absent: never "already exists"
    "AWS::Logs::LogGroup": "Retain",  # generated names; they hold why the create failed
    "AWS::Backup::BackupVault": "RetainExceptOnCreate",  # empty until the 03:00 backup
    "AWS::SQS::Queue": "RetainExceptOnCreate",  # the retry re-reads the streams from TRIM_HORIZON
    "AWS::SSM::Parameter": "RetainExceptOnCreate",  # the published names, rewritten by every deploy
    "AWS::KMS::Key": "RetainExceptOnCreate",  # encrypts only the alarm topic, which is not retained
}


@pytest.mark.parametrize("variant", ["staging", "prod+catalog"])
def test_a_failed_first_create_leaves_only_what_cannot_block_the_next_deploy(variant, synth_stage):
    # Given the real stacks outside dev
    synth = synth_stage(variant)
    # When we read each stateful resource's policies
    found = {
        (kind, resource["DeletionPolicy"], resource["UpdateReplacePolicy"])
        for template in synth.templates.values()
        for resource in template["Resources"].values()
        if (kind := resource["Type"]) in STATEFUL_TYPES
    }
    # Then each type has the one deletion policy chosen for it, and every replacement keeps the old one
    assert found == {(kind, policy, "Retain") for kind, policy in FIRST_CREATE_ROLLBACK.items()}


def test_the_real_prod_app_refuses_the_override_escape_hatch(runbook_app):
    # Given the real prod app, with the v3 table's DeletionPolicy overridden after RETAIN was applied
    app, stacks = runbook_app("prod")
    stacks["stateful"].v3.node.default_child.add_override("DeletionPolicy", "Delete")
    # When it is synthesized, then synthesis fails naming the v3 table's retention, and only that
    stateful = stacks["stateful"].stack_name
    assert _violations(app.synth) == {(RETAIN_RULE, f"{stateful}/V3Table/Resource")}
