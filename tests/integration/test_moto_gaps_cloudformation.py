"""The rehearsal's moto gaps (cutover_cli/rehearsal/moto_gaps/): each pins the AWS behaviour the
patch restores, deployed through the CloudFormation API as `cutover rehearse` deploys
(cutover_cli/rehearsal/deploy.py), from small hand-made cloud assemblies.

Without the patches (moto 5.2 alone) every test here fails: the custom resource stays
CREATE_IN_PROGRESS (moto wants Docker), a failing resource is an internal error of CreateStack
with no event, the SSM map tags and KMS Key/Value tags raise inside moto, and the stream label
has microseconds.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cutover.clients import Clients
from cutover.settings import Settings
from cutover_cli.local_backend import LocalServer
from cutover_cli.rehearsal import deploy
from cutover_cli.rehearsal.moto_gaps import cloudformation, dynamodb

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture(scope="module")
def backend() -> Iterator[Clients]:
    """A moto server of this process with the gaps patched (for this module's tests only), and the
    bootstrap made."""
    with cloudformation.applied(), dynamodb.applied(), LocalServer() as server:
        cloudformation.configure(endpoint_url=server.endpoint_url, region=REGION)
        clients = Clients(Settings(service="gaps", region=REGION, endpoint_url=server.endpoint_url))
        deploy.bootstrap(clients, ACCOUNT, REGION)
        yield clients


def assembly(tmp_path: Path, resources: dict[str, Any], code: str | None = None, **template: Any) -> Path:
    """A one-stack cloud assembly as `cdk synth` writes it: manifest, template, and (with `code`) a
    Python asset folder `index.py` referenced as the Lambda's S3 code."""
    name = f"gaps-{uuid.uuid4().hex[:8]}"
    files: dict[str, Any] = {
        "template": {
            "source": {"path": f"{name}.template.json", "packaging": "file"},
            "destinations": {"d": {"bucketName": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}",
                                   "objectKey": f"{name}.json"}},
        }
    }  # fmt: skip
    if code is not None:
        folder = tmp_path / "asset.code"
        folder.mkdir()
        (folder / "index.py").write_text(code)
        files["code"] = {
            "source": {"path": "asset.code", "packaging": "zip"},
            "destinations": {"d": {"bucketName": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}",
                                   "objectKey": f"{name}-code.zip"}},
        }  # fmt: skip
        resources = {**resources, **_function(f"{name}-code.zip")}
    (tmp_path / f"{name}.template.json").write_text(json.dumps({"Resources": resources, **template}))
    (tmp_path / f"{name}.assets.json").write_text(json.dumps({"version": "55.0.0", "files": files}))
    manifest = {
        "version": "55.0.0",
        "artifacts": {
            f"{name}.assets": {"type": "cdk:asset-manifest", "properties": {"file": f"{name}.assets.json"}},
            name: {
                "type": "aws:cloudformation:stack",
                "dependencies": [f"{name}.assets"],
                "properties": {
                    "templateFile": f"{name}.template.json",
                    "stackTemplateAssetObjectUrl": f"s3://cdk-hnb659fds-assets-${{AWS::AccountId}}-${{AWS::Region}}/{name}.json",
                    "tags": {"Purpose": "gaps"},
                },
            },
        },
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


def _function(key: str) -> dict[str, Any]:
    return {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                        }
                    ]
                }
            },
        },  # fmt: skip
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.12",
                "Handler": "index.on_event",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {
                    "S3Bucket": {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"},
                    "S3Key": key,
                },
                "Environment": {"Variables": {"ANSWER": "42"}},
                "Timeout": 60,
            },
        },
    }


def deployed(clients: Clients, path: Path) -> deploy.StackResult:
    (result,) = deploy.deploy_assembly(clients, path, ACCOUNT, REGION, wait_seconds=30)
    return result


HANDLER = """
import os
def on_event(event, context):
    props = event["ResourceProperties"]
    if props.get("Fail"):
        raise RuntimeError("the check failed: " + props["Fail"])
    return {"PhysicalResourceId": "answer-" + os.environ["ANSWER"], "Data": {"Echo": props["Say"]}}
"""


def test_a_custom_resource_runs_its_handler_from_the_deployed_code_and_its_answer_is_the_resource(backend, tmp_path):
    """AWS waits for the provider's response: SUCCESS makes PhysicalResourceId the resource's id
    and Data its Fn::GetAtt attributes
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html)."""
    custom = {"Type": "Custom::Echo", "Properties": {"ServiceToken": {"Fn::GetAtt": ["Fn", "Arn"]}, "Say": "hi"}}
    outputs = {"Echo": {"Value": {"Fn::GetAtt": ["Check", "Echo"]}}}
    result = deployed(backend, assembly(tmp_path, {"Check": custom}, HANDLER, Outputs=outputs))
    assert result.status == "CREATE_COMPLETE", result.reason
    assert result.physical_ids["Check"] == "answer-42"  # the function's own environment reached the handler
    assert result.outputs == {"Echo": "hi"}


def test_a_failing_custom_resource_fails_the_stack_with_its_reason_and_rolls_back(backend, tmp_path):
    """A FAILED response fails the resource with the provider's Reason; a failed create rolls back,
    deleting what it made, and ends ROLLBACK_COMPLETE
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html,
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html)."""
    queue_name = f"gaps-made-first-{uuid.uuid4().hex[:8]}"
    resources = {
        "Made": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": queue_name}},
        "Check": {
            "Type": "Custom::Echo",
            "DependsOn": ["Made"],
            "Properties": {"ServiceToken": {"Fn::GetAtt": ["Fn", "Arn"]}, "Fail": "table t has no stream"},
        },
    }
    result = deployed(backend, assembly(tmp_path, resources, HANDLER))
    assert result.status == "ROLLBACK_COMPLETE"
    assert result.reason is not None
    assert result.reason.startswith("Check (Custom::Echo): Received response status [FAILED] from custom resource.")
    assert "the check failed: table t has no stream" in result.reason
    assert not backend.sqs.list_queues(QueueNamePrefix=queue_name).get("QueueUrls")  # rolled back


def test_a_resource_moto_refuses_is_a_create_failed_event_not_an_internal_error(backend, tmp_path):
    """An invalid resource fails on its own, named in a CREATE_FAILED event with the service's
    message; CreateStack itself succeeded (the failure is asynchronous on AWS)."""
    bad = {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "/gaps/bad", "Type": "Nonsense", "Value": "x"}}
    result = deployed(backend, assembly(tmp_path, {"Bad": bad}))
    assert result.status == "ROLLBACK_COMPLETE"
    assert result.reason is not None and result.reason.startswith("Bad (AWS::SSM::Parameter): ")
    assert "Nonsense" in result.reason


def test_ssm_parameter_tags_are_a_map_in_a_template(backend, tmp_path):
    """AWS::SSM::Parameter's Tags: a JSON object of key -> value
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ssm-parameter.html)."""
    name = f"/gaps/{uuid.uuid4().hex[:8]}"
    parameter = {"Type": "AWS::SSM::Parameter",
                 "Properties": {"Name": name, "Type": "String", "Value": "v", "Tags": {"Stage": "dev"}}}  # fmt: skip
    result = deployed(backend, assembly(tmp_path, {"P": parameter}))
    assert result.status == "CREATE_COMPLETE", result.reason
    tags = backend.ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    assert {"Key": "Stage", "Value": "dev"} in tags


def test_kms_key_tags_are_key_value_pairs_in_a_template(backend, tmp_path):
    """AWS::KMS::Key's Tags: a list of Key/Value
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-kms-key.html)."""
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
              "Action": "kms:*", "Resource": "*"}]}  # fmt: skip
    key = {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": policy, "Tags": [{"Key": "Stage", "Value": "dev"}]}}
    result = deployed(backend, assembly(tmp_path, {"K": key}))
    assert result.status == "CREATE_COMPLETE", result.reason
    kms = backend.client("kms")
    tags = kms.list_resource_tags(KeyId=result.physical_ids["K"])["Tags"]
    assert {"TagKey": "Stage", "TagValue": "dev"} in tags


def test_a_public_parameter_resolves_as_a_template_parameter(backend, tmp_path):
    """AWS publishes the Powertools layer's ARN under /aws/service/powertools/...
    (https://docs.powertools.aws.dev/lambda/python/latest/#lambda-layer); a template reads it as
    an `AWS::SSM::Parameter::Value<String>` parameter."""
    public = "/aws/service/powertools/python/arm64/python3.12/0.0.1-gaps"
    cloudformation.publish_public_parameter(ACCOUNT, REGION, public, "arn:aws:lambda:us-east-1:1:layer:x:1")
    parameters = {"Layer": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": public}}
    outputs = {"Layer": {"Value": {"Ref": "Layer"}}}
    queue = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"gaps-{uuid.uuid4().hex[:8]}"}}
    result = deployed(backend, assembly(tmp_path, {"Q": queue}, Parameters=parameters, Outputs=outputs))
    assert result.status == "CREATE_COMPLETE", result.reason
    assert result.outputs == {"Layer": "arn:aws:lambda:us-east-1:1:layer:x:1"}


def test_a_stream_label_is_to_the_millisecond(backend):
    """AWS's stream labels: `2015-05-11T21:21:33.291`, the last part of the stream ARN
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_DescribeStream.html)."""
    name = f"gaps-{uuid.uuid4().hex[:8]}"
    table = backend.dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", table["LatestStreamLabel"])
    assert table["LatestStreamArn"].endswith("/stream/" + table["LatestStreamLabel"])
    assert dynamodb.aws_label("2001-02-03T04:05:06") == "2001-02-03T04:05:06.000"  # moto drops zero microseconds
