"""The deploy-time legacy table check (custom resource handler), against in-process moto."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from infra.functions.legacy_check.index import on_event, problems_of


def _create(client, name, stream=True, pitr=True, protected=True):
    """A legacy table as runbooks/deploy.md step 0 leaves it (unless told otherwise)."""
    kwargs = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}} if stream else {}
    table = client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        DeletionProtectionEnabled=protected,
        **kwargs,
    )["TableDescription"]
    if pitr:
        client.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    return table


def _event(tables):
    return {"RequestType": "Create", "ResourceProperties": {"Tables": json.dumps(tables)}}


@mock_aws
def test_active_tables_with_their_streams_pass(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("dynamodb", region_name="us-east-1")
    users = _create(client, "legacy-users")
    result = on_event(_event({"legacy-users": users["LatestStreamArn"]}), None)
    assert result["PhysicalResourceId"].startswith("legacy-check-legacy-users-passed-")


@mock_aws
def test_missing_and_streamless_tables_fail_the_deploy_naming_each(monkeypatch):
    # Given one table without a stream and one that does not exist
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("dynamodb", region_name="us-east-1")
    _create(client, "legacy-orders", stream=False)
    fake = "arn:aws:dynamodb:us-east-1:123456789012:table/x/stream/2025-01-01T00:00:00.000"
    # When the custom resource runs
    with pytest.raises(RuntimeError) as error:
        on_event(_event({"legacy-orders": fake, "legacy-ghost": fake}), None)
    # Then the deployment fails naming both problems
    assert "legacy-orders has no NEW_AND_OLD_IMAGES stream" in str(error.value)
    # And the fix it names is the Serverless stack's own (a stream enabled behind it is drift)
    assert "serverless.yml" in str(error.value) and "StreamEnabled=true" not in str(error.value)
    assert "legacy table legacy-ghost does not exist" in str(error.value)


@mock_aws
@pytest.mark.parametrize("missing", ["pitr", "protected"])
def test_table_without_pitr_or_deletion_protection_fails_the_deploy(missing, monkeypatch):
    # Given a legacy table (still owned by the Serverless stack) with PITR or deletion protection off
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("dynamodb", region_name="us-east-1")
    users = _create(client, "legacy-users", **{missing: False})
    # When the deploy-time check runs, then the deploy fails naming the table, the gap and the fix
    with pytest.raises(RuntimeError) as error:
        on_event(_event({"legacy-users": users["LatestStreamArn"]}), None)
    expected = "point-in-time recovery DISABLED" if missing == "pitr" else "deletion protection off"
    assert f"legacy-users has {expected}" in str(error.value)
    assert "serverless.yml" in str(error.value)


DESCRIPTION = {
    "TableName": "t",
    "TableStatus": "ACTIVE",
    "LatestStreamArn": "new",
    "DeletionProtectionEnabled": True,
    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
}


def test_stale_stream_arn_is_reported():
    description = DESCRIPTION
    assert problems_of("new", description, "ENABLED") == []
    assert "current stream is new, but the deploy was given old" in problems_of("old", description, "ENABLED")[0]
    assert "is UPDATING, not ACTIVE" in problems_of("new", {**description, "TableStatus": "UPDATING"}, "ENABLED")[0]


def test_unknown_pitr_and_absent_protection_are_refused():
    problems = problems_of("new", {k: v for k, v in DESCRIPTION.items() if k != "DeletionProtectionEnabled"}, None)
    assert len(problems) == 2 and "recovery unknown" in problems[0] and "deletion protection off" in problems[1]


def test_the_check_runs_on_every_deploy_and_may_read_pitr(synth_stage):
    # Given two synths of the same stage with the same inputs
    first = synth_stage("prod").templates["stateful"]
    from infra.constructs.legacy import deploy_run

    # Then the check's properties carry a per-synth value, so CloudFormation re-runs it every deploy...
    checks = [r for r in first["Resources"].values() if r["Type"] == "Custom::LegacyTableCheck"]
    assert len(checks) == 1 and checks[0]["Properties"]["DeployRun"] != deploy_run()
    # ...and its function may read point-in-time recovery status on exactly the legacy tables
    policies = json.dumps([r for r in first["Resources"].values() if r["Type"] == "AWS::IAM::Policy"])
    assert "dynamodb:DescribeContinuousBackups" in policies


def test_delete_is_a_no_op():
    assert on_event({"RequestType": "Delete", "PhysicalResourceId": "p"}, None) == {"PhysicalResourceId": "p"}
