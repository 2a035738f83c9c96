"""API stack per stage: REST API, IAM auth on every method, access logs, throttling, routes.

The seed's example application, so these run on the seed's variants (`synth` is overridden here);
test_migrations.py shows another definition gets no API unless asked for."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from cutover.environment import API_ENV

pytestmark = pytest.mark.infra


@pytest.fixture
def synth(seed_synth):
    """The seed migration's variants only: the example API serves its schema."""
    return seed_synth


ROUTES = {
    ("POST", "/users"),
    ("GET", "/users/{userId}"),
    ("GET", "/users"),
    ("GET", "/users/{userId}/orders"),
    ("POST", "/orders"),
}


def _paths(template: dict) -> dict[str, str]:
    """Logical id of each API resource -> its full path (rebuilt from ParentId references)."""
    resources = {
        lid: r["Properties"] for lid, r in template["Resources"].items() if r["Type"] == "AWS::ApiGateway::Resource"
    }

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
    Template.from_json(synth.templates["api"]).has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": synth.stage,
            "AccessLogSetting": {"DestinationArn": Match.any_value(), "Format": Match.string_like_regexp("requestId")},
            "MethodSettings": Match.array_with(
                [Match.object_like({"ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200})]
            ),
        },
    )


def test_api_function_env_and_grants(synth):
    functions = [r["Properties"] for _, r in synth.resources("AWS::Lambda::Function", "api")]
    api = [f for f in functions if f["Handler"] == "app_handlers.api.lambda_handler"]
    assert len(api) == 1
    variables = api[0]["Environment"]["Variables"]
    literal = {k: v for k, v in variables.items() if isinstance(v, str)}
    assert API_ENV.problems(literal) == []
    assert set(variables) == set(literal)  # no CloudFormation expressions: in particular no secret ARN
    assert variables["REPORTS_TABLE"] == f"my-service-{synth.stage}-cutover-reports"
    assert json.loads(variables["SOURCE_TABLES"]) == {role: synth.legacy_table(role) for role in synth.roles}
    assert "CUTOVER_MIGRATION" not in variables  # the seed is the default definition
    policy = json.dumps([r["Properties"] for _, r in synth.resources("AWS::IAM::Policy", "api")])
    # exact index ARNs for every GSI the API queries, on legacy and v3
    for index in ("email-index", "userId-index", "EmailLookupIndex", "TimeSeriesIndex"):
        assert f"/index/{index}" in policy
    # the read-source flag is the reports table's flip control item: GetItem on that one partition, nothing else
    statements = [s for p in json.loads(policy) for s in p["PolicyDocument"]["Statement"]]
    flag = [s for s in statements if "cutover-reports" in json.dumps(s["Resource"])]
    assert [(s["Action"], s["Condition"]) for s in flag] == [
        ("dynamodb:GetItem", {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["flip"]}})
    ]
    assert "read-source" not in policy  # the SSM parameter is a mirror for people: the API never reads it
    # no handler reads a secret, so the API is granted none (the runtime stage check would never run)
    assert "secretsmanager" not in policy


def _methods(template: dict) -> dict[tuple[str, str], dict]:
    paths = _paths(template)
    return {
        (r["Properties"]["HttpMethod"], paths[r["Properties"]["ResourceId"]["Ref"]]): r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::Method"
    }


def test_the_validator_validates_something_on_every_method(synth):
    template = synth.templates["api"]
    methods = _methods(template)
    models = {lid: r["Properties"] for lid, r in template["Resources"].items() if r["Type"] == "AWS::ApiGateway::Model"}
    # POST bodies are checked against JSON-schema models with the handler's required fields
    for path, required in (("/users", ["email", "name"]), ("/orders", ["userId", "amount"])):
        ref = methods[("POST", path)]["RequestModels"]["application/json"]["Ref"]
        assert models[ref]["Schema"]["required"] == required
        assert models[ref]["Schema"]["additionalProperties"] is False
    # GETs require their path / query parameters by name
    assert methods[("GET", "/users")]["RequestParameters"] == {"method.request.querystring.email": True}
    for path in ("/users/{userId}", "/users/{userId}/orders"):
        assert methods[("GET", path)]["RequestParameters"] == {"method.request.path.userId": True}
    validators = [
        r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::RequestValidator"
    ]
    assert validators == [
        {"RestApiId": validators[0]["RestApiId"], "ValidateRequestBody": True, "ValidateRequestParameters": True}
    ]


def test_regional_endpoint_and_no_account_wide_side_effect(synth):
    template = synth.templates["api"]
    (api,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    assert api["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    # AWS::ApiGateway::Account sets the logging role of every API in the account: opt-in only
    assert not synth.resources("AWS::ApiGateway::Account", "api")


def test_account_logging_role_only_when_opted_in(synth_with):
    template = synth_with("staging", apiGatewayCloudWatchRole="true")["api"]
    accounts = [r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Account"]
    assert len(accounts) == 1 and accounts[0]["DeletionPolicy"] == "Retain"


def test_read_path_alarms_notify_the_alarm_topic(synth):
    alarms = [r["Properties"] for _, r in synth.resources("AWS::CloudWatch::Alarm", "api")]
    by_metric = {a["MetricName"]: a for a in alarms}
    for metric in ("ShadowMismatch", "FlagInvalid", "V3Fallback", "V3Error"):
        assert by_metric[metric]["Namespace"] == "cutover"
        assert by_metric[metric]["Dimensions"] == [{"Name": "service", "Value": "my-service"}]
    assert by_metric["ShadowMismatch"]["Threshold"] == 1 and by_metric["FlagInvalid"]["Threshold"] == 1
    assert by_metric["5XXError"]["Namespace"] == "AWS/ApiGateway"
    for alarm in alarms:
        assert f"my-service-{synth.stage}-cutover-alarms" in json.dumps(alarm["AlarmActions"])


@pytest.mark.parametrize(
    "path, model, body",
    [
        ("users", "CreateUser", {"email": "  Someone@Example.com ", "name": " Ann "}),
        ("users", "CreateUser", {"email": "a@b.co", "name": "A", "userId": None}),
        ("orders", "CreateOrder", {"userId": "u-1", "amount": 12.5}),
        ("orders", "CreateOrder", {"userId": "u-1", "amount": 12.50, "currency": "EUR", "orderId": None}),
    ],
)
def test_gateway_models_never_refuse_what_the_handler_accepts(path, model, body):
    import jsonschema

    from app_handlers import schemas
    from infra.stacks.api import BODY_SCHEMAS

    schemas.parse_body(json.dumps(body), getattr(schemas, model))  # the handler accepts it (as it parses bodies)...
    jsonschema.validate(body, BODY_SCHEMAS[path])  # ...so API Gateway must too


@pytest.mark.parametrize(
    "path, body",
    [
        ("users", {"name": "no email"}),
        ("orders", {"userId": "u"}),
        ("users", {"email": "a@b.co", "name": "A", "_version": "x"}),
        ("orders", {"userId": "u", "amount": "12.5"}),  # strict numbers, as the handler (issue 13)
    ],
)
def test_gateway_models_refuse_what_can_never_be_valid(path, body):
    import jsonschema

    from infra.stacks.api import BODY_SCHEMAS

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, BODY_SCHEMAS[path])
