"""API stack per stage: REST API, IAM auth on every method, access logs, throttling, routes."""
from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from cutover.environment import API_ENV

pytestmark = pytest.mark.infra

ROUTES = {("POST", "/users"), ("GET", "/users/{userId}"), ("GET", "/users"), ("GET", "/users/{userId}/orders"),
          ("POST", "/orders")}


def _paths(template: dict) -> dict[str, str]:
    """Logical id of each API resource -> its full path (rebuilt from ParentId references)."""
    resources = {lid: r["Properties"] for lid, r in template["Resources"].items() if r["Type"] == "AWS::ApiGateway::Resource"}

    def path(lid: str) -> str:
        parent = resources[lid]["ParentId"]
        prefix = path(parent["Ref"]) if isinstance(parent, dict) and "Ref" in parent else ""
        return f"{prefix}/{resources[lid]['PathPart']}"

    return {lid: path(lid) for lid in resources}


def test_every_route_exists_and_requires_iam(synth):
    # Given the API template
    template = synth.templates["api"]
    paths = _paths(template)
    methods = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Method"]
    # Then exactly the contract's routes exist, each SigV4 (AWS_IAM) authorised and request-validated
    assert {(m["HttpMethod"], paths[m["ResourceId"]["Ref"]]) for m in methods} == ROUTES
    assert all(m["AuthorizationType"] == "AWS_IAM" for m in methods)
    assert all("RequestValidatorId" in m for m in methods)


def test_stage_has_access_logs_and_throttling(synth):
    Template.from_json(synth.templates["api"]).has_resource_properties("AWS::ApiGateway::Stage", {
        "StageName": synth.stage,
        "AccessLogSetting": {"DestinationArn": Match.any_value(), "Format": Match.string_like_regexp("requestId")},
        "MethodSettings": Match.array_with([Match.object_like({"ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200})]),
    })


def test_api_function_env_and_grants(synth):
    functions = [r["Properties"] for _, r in synth.resources("AWS::Lambda::Function", "api")]
    api = [f for f in functions if f["Handler"] == "app_handlers.api.lambda_handler"]
    assert len(api) == 1
    variables = api[0]["Environment"]["Variables"]
    literal = {k: v for k, v in variables.items() if isinstance(v, str)}
    assert API_ENV.problems(literal) == []  # only the secret ARN is a CloudFormation expression
    assert set(variables) - set(literal) == {"APP_SECRET_ARN"}
    assert variables["READ_SOURCE_PARAMETER"] == f"/my-service/{synth.stage}/cutover/read-source"
    policy = json.dumps([r["Properties"] for _, r in synth.resources("AWS::IAM::Policy", "api")])
    # exact index ARNs for every GSI the API queries, on legacy and v3
    for index in ("email-index", "userId-index", "EmailLookupIndex", "TimeSeriesIndex"):
        assert f"/index/{index}" in policy
    assert "ssm:GetParameter" in policy and "parameter/my-service/" in policy
    assert "secretsmanager:GetSecretValue" in policy and f"/{synth.stage}/my-service/cutover/app-??????" in policy
