"""The deploy-time legacy table check (custom resource handler), against in-process moto."""
from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from infra.functions.legacy_check.index import on_event, problems_of


def _create(client, name, stream=True):
    kwargs = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}} if stream else {}
    return client.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                               AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                               BillingMode="PAY_PER_REQUEST", **kwargs)["TableDescription"]


def _event(tables):
    return {"RequestType": "Create", "ResourceProperties": {"Tables": json.dumps(tables)}}


@mock_aws
def test_active_tables_with_their_streams_pass(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("dynamodb", region_name="us-east-1")
    users = _create(client, "legacy-users")
    result = on_event(_event({"legacy-users": users["LatestStreamArn"]}), None)
    assert result["PhysicalResourceId"] == "legacy-check-legacy-users"


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
    assert "legacy table legacy-ghost does not exist" in str(error.value)


def test_stale_stream_arn_is_reported():
    description = {"TableName": "t", "TableStatus": "ACTIVE", "LatestStreamArn": "new",
                   "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
    assert problems_of("new", description) == []
    assert "current stream is new, but the deploy was given old" in problems_of("old", description)[0]
    assert "is UPDATING, not ACTIVE" in problems_of("new", {**description, "TableStatus": "UPDATING"})[0]


def test_delete_is_a_no_op():
    assert on_event({"RequestType": "Delete", "PhysicalResourceId": "p"}, None) == {"PhysicalResourceId": "p"}
