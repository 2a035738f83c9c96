"""The legacy check fails a forward deploy but never a rollback (issue 20, major 7).

What CloudFormation sends, per its custom resource docs
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html):
an Update carries PhysicalResourceId, ResourceProperties (the properties being moved TO) and
OldResourceProperties; a different PhysicalResourceId in the response is a replacement, and the old
id then gets a Delete. When an Update fails, the CDK Provider framework answers FAILED under the
unchanged PhysicalResourceId (aws/aws-cdk#17040), so the rollback is a second Update to that id
with ResourceProperties = the old (last passed) properties and OldResourceProperties = the failed
ones. A replacement that succeeded and is rolled back gets a Delete of the new id instead.
"""

from __future__ import annotations

import json
import logging

import boto3
import pytest
from moto import mock_aws

from infra.functions.legacy_check.index import on_event, passed_id

TOKEN = "arn:aws:lambda:us-east-1:123456789012:function:stateful-LegacyCheckProviderframeworkonEvent"


def _props(tables: dict[str, str], run: str) -> dict[str, str]:
    return {"ServiceToken": TOKEN, "Tables": json.dumps(tables), "DeployRun": run, "RecordsPasses": "true"}


def _request(kind: str, props: dict[str, str], physical: str | None = None, old: dict | None = None) -> dict:
    """The request as CloudFormation sends it (the Provider framework passes it on unchanged)."""
    event = {
        "RequestType": kind,
        "RequestId": f"{kind}-request",
        "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/signed",
        "ResourceType": "Custom::LegacyTableCheck",
        "LogicalResourceId": "LegacyVerify1234ABCD",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/my-service-prod-stateful/guid",
        "ServiceToken": TOKEN,
        "ResourceProperties": props,
    }
    if physical is not None:
        event["PhysicalResourceId"] = physical
    if old is not None:
        event["OldResourceProperties"] = old
    return event


@pytest.fixture
def legacy(monkeypatch):
    """A legacy table that passed the last deploy, then had point-in-time recovery switched off."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        table = client.create_table(
            TableName="legacy-users",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            DeletionProtectionEnabled=True,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]
        pitr = {"PointInTimeRecoveryEnabled": True}
        client.update_continuous_backups(TableName="legacy-users", PointInTimeRecoverySpecification=pitr)
        passed = _props({"legacy-users": table["LatestStreamArn"]}, "2020-01-01T10:00:00Z-aaaaaaaa")
        physical = on_event(_request("Create", passed), None)["PhysicalResourceId"]
        client.update_continuous_backups(
            TableName="legacy-users", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
        )
        yield passed, physical


def test_forward_update_fails_and_its_rollback_succeeds_with_a_warning(legacy, caplog):
    # Given the last deploy passed (its properties are recorded in the physical id) and PITR is now off
    passed, physical = legacy
    forward = {**passed, "DeployRun": "2020-01-02T10:00:00Z-bbbbbbbb"}
    # When the next deploy runs the check, then it fails the deploy naming the table and the gap
    with pytest.raises(RuntimeError, match="legacy-users has point-in-time recovery DISABLED"):
        on_event(_request("Update", forward, physical, old=passed), None)
    # When CloudFormation rolls back (an Update back to the properties that passed, same physical id)
    with caplog.at_level(logging.WARNING):
        result = on_event(_request("Update", passed, physical, old=forward), None)
    # Then the rollback succeeds, keeps the id, and the log still names what fails
    assert result["PhysicalResourceId"] == physical
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    quote = "legacy table check: rollback to the last passed deploy, still: "  # runbooks/deploy.md step 5
    assert any(m.startswith(quote) and "legacy-users has point-in-time recovery DISABLED" in m for m in warned)
    # And the Delete of a rolled-back (or replaced) check always succeeds
    assert on_event(_request("Delete", passed, physical), None) == {"PhysicalResourceId": physical}


def test_an_update_is_only_a_rollback_with_the_exact_properties_that_passed(legacy):
    # Given the recorded pass, when an Update brings other properties (a new run, or the same run
    # with other tables), or an id written before passes were recorded, then the check still fails
    passed, physical = legacy
    others = [
        ({**passed, "DeployRun": "2020-01-02T10:00:00Z-cccccccc"}, physical),
        ({**passed, "Tables": passed["Tables"].replace("}", ', "legacy-orders": "x"}')}, physical),
        (passed, "legacy-check-legacy-users"),
    ]
    for props, physical_id in others:
        with pytest.raises(RuntimeError, match="legacy table check failed"):
            on_event(_request("Update", props, physical_id, old=passed), None)


def test_the_first_deploy_recording_passes_also_rolls_back(legacy, caplog):
    # Given a stack deployed before passes were recorded (its id and properties carry no record)
    passed, _ = legacy
    before = {key: value for key, value in passed.items() if key != "RecordsPasses"}
    forward = {**passed, "DeployRun": "2020-01-02T10:00:00Z-eeeeeeee"}
    # When the upgrading deploy's check fails, then the deploy fails
    with pytest.raises(RuntimeError, match="legacy-users has point-in-time recovery DISABLED"):
        on_event(_request("Update", forward, "legacy-check-legacy-users", old=before), None)
    # And its rollback (back to properties without the record) succeeds with the warning
    with caplog.at_level(logging.WARNING):
        result = on_event(_request("Update", before, "legacy-check-legacy-users", old=forward), None)
    assert result["PhysicalResourceId"] == "legacy-check-legacy-users"
    assert any("rollback" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_a_successful_check_changes_the_physical_id_every_deploy(legacy):
    # Given the table is fixed again, when the next deploy's Update passes
    passed, physical = legacy
    boto3.client("dynamodb", region_name="us-east-1").update_continuous_backups(
        TableName="legacy-users", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    forward = {**passed, "DeployRun": "2020-01-02T10:00:00Z-dddddddd"}
    result = on_event(_request("Update", forward, physical, old=passed), None)
    # Then it answers a new id (a replacement: a later rollback Deletes the new id, never re-checks)
    assert result["PhysicalResourceId"] == passed_id(forward) != physical


def test_each_synth_gives_the_check_a_new_pass_id(synth_stage):
    # Given the stateful template's check, as CloudFormation will send its properties
    from infra.constructs.legacy import deploy_run

    template = synth_stage("prod").templates["stateful"]
    (check,) = [r for r in template["Resources"].values() if r["Type"] == "Custom::LegacyTableCheck"]
    props = check["Properties"]
    # Then it says passes are recorded, the record covers every property but the token, and the
    # next synth's record differs, so every passing deploy is a replacement whose rollback is a Delete
    assert set(props) == {"ServiceToken", "Tables", "DeployRun", "RecordsPasses"}
    assert passed_id(props) != passed_id({**props, "DeployRun": deploy_run()})
    assert passed_id(props) == passed_id({**props, "ServiceToken": "another provider"})
