"""A deploy never changes the read-source flag: it is created only if absent, and never deleted."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from infra.functions.read_source_flag.index import on_event

NAME = "/my-service/prod/cutover/read-source"


def _event(kind: str, **extra) -> dict:
    return {
        "RequestType": kind,
        "PhysicalResourceId": NAME,
        "ResourceProperties": {"Name": NAME, "InitialValue": "legacy", "Description": "flag"},
        **extra,
    }


@pytest.fixture
def ssm(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        yield boto3.client("ssm", region_name="eu-west-1")


def _value(ssm) -> str:
    return ssm.get_parameter(Name=NAME)["Parameter"]["Value"]


def test_first_deploy_creates_the_flag_at_legacy(ssm):
    assert on_event(_event("Create"), None) == {"PhysicalResourceId": NAME}
    assert _value(ssm) == "legacy"


@pytest.mark.parametrize("kind", ["Create", "Update"])
def test_a_deploy_after_a_flip_keeps_the_flipped_value(kind, ssm):
    # Given an operator flipped the flag to v3 after the first deploy
    on_event(_event("Create"), None)
    ssm.put_parameter(Name=NAME, Value="v3", Type="String", Overwrite=True)
    # When a later deploy creates (replacement) or updates the resource
    on_event(_event(kind), None)
    # Then the cut-over is not undone
    assert _value(ssm) == "v3"


def test_stack_delete_never_deletes_the_flag(ssm):
    on_event(_event("Create"), None)
    ssm.put_parameter(Name=NAME, Value="shadow", Type="String", Overwrite=True)
    on_event(_event("Delete"), None)
    assert _value(ssm) == "shadow"


@pytest.mark.infra
def test_no_stack_owns_the_flag_value(synth):
    # Given the synthesized stacks
    params = [
        r["Properties"]
        for t in synth.templates.values()
        for r in t["Resources"].values()
        if r["Type"] == "AWS::SSM::Parameter"
    ]
    # Then CloudFormation owns no SSM parameter (it would write `legacy` back on update/replace) but
    # the deployment's published names, which only a deploy writes (tests/infrastructure/test_remote_runs.py)...
    assert [p["Name"] for p in params] == [f"/my-service/{synth.stage}/cutover/deployment"]
    flags = synth.resources("Custom::ReadSourceFlag", "stateful")
    assert len(flags) == 1
    _, flag = flags[0]
    # ...the create-if-absent custom resource names the flag, starts it at legacy, and is retained
    assert flag["Properties"]["Name"] == f"/my-service/{synth.stage}/cutover/read-source"
    assert flag["Properties"]["InitialValue"] == "legacy"
    assert flag["DeletionPolicy"] == "Retain" and flag["UpdateReplacePolicy"] == "Retain"
