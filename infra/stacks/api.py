"""API stack: REST API (API Gateway v1) with IAM auth in front of the app handlers.

The SEED migration's example application (app_handlers: users and orders, read through the
read-source flag). Its routes and models are that schema's, so the app deploys it only when the
migration definition is the seed, or when `-c api=true` asks for it explicitly (a definition of
the same shape under another name); `-c api=false` leaves it out for the seed too. Its grants
and environment (`SOURCE_TABLES`) still come from the definition's roles, like every function's.

Why REST rather than HTTP API: per-method throttling, usage plans, AWS WAF association,
resource policies and request validation are REST-only, and a migration API that other services
call with SigV4 (AWS_IAM) needs exactly those controls; HTTP API's lower price does not matter
at this traffic.

REGIONAL endpoint (callers are services in the same region; edge-optimised would add CloudFront
for nothing). Every method validates something: POST bodies against JSON-schema models, path and
required query parameters by name. No `AWS::ApiGateway::Account`: that resource sets the logging
role for the WHOLE account and region (every API in it); it is created only with the documented
opt-in `-c apiGatewayCloudWatchRole=true` (runbooks/deploy.md). The API transforms legacy items
(shadow reads), so it is granted the definition's transform secrets, if any, and no other.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from controlplane.shadow_evidence import SHADOW_PREFIX
from cutover.environment import API_ENV
from cutover.state import FLIP
from infra.config import StageConfig
from infra.constructs.code import powertools_layer
from infra.constructs.function import CutoverFunction, Placement
from infra.constructs.monitoring import api_alarms
from infra.constructs.refs import table_ref
from infra.constructs.tables import READ, grant_table

HANDLER = "app_handlers.api.lambda_handler"
ROUTES = (
    ("POST", "users"),
    ("GET", "users/{userId}"),
    ("GET", "users"),
    ("GET", "users/{userId}/orders"),
    ("POST", "orders"),
)
# What API Gateway checks before the Lambda runs (the handler's pydantic models stay authoritative;
# these only refuse what can never be valid, and are never stricter than app_handlers/schemas.py).
# A path's userId is only required: any legacy key is readable (URL-encoded in the path), so
# nothing here may restrict its characters (docs/API.md, "User ids in the path").
REQUIRED_PARAMETERS = {
    "users": {"method.request.querystring.email": True},
    "users/{userId}": {"method.request.path.userId": True},
    "users/{userId}/orders": {"method.request.path.userId": True},
}
# No maxLength: the models strip whitespace before measuring, so a length cap here could refuse
# what the handler accepts. Optional ids may be null (pydantic's `Id | None`).
_OPTIONAL_ID = {"type": ["string", "null"], "minLength": 1}
BODY_SCHEMAS = {
    "users": {
        "title": "CreateUser",
        "type": "object",
        "required": ["email", "name"],
        "additionalProperties": False,
        "properties": {
            "email": {"type": "string", "minLength": 3},
            "name": {"type": "string", "minLength": 1},
            "userId": _OPTIONAL_ID,
        },
    },
    "orders": {
        "title": "CreateOrder",
        "type": "object",
        "required": ["userId", "amount"],
        "additionalProperties": False,
        "properties": {
            "userId": {"type": "string", "minLength": 1},
            "amount": {"type": "number"},
            "currency": {"type": "string", "minLength": 3, "maxLength": 3},
            "orderId": _OPTIONAL_ID,
        },
    },
}
LEGACY_WRITE = ("dynamodb:PutItem",)  # registrations and orders are written to legacy (source of truth)


class ApiStack(Stack):
    """Attributes: `function`, `api`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        placement: Placement | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        names = config.names
        self.function = CutoverFunction(
            self,
            "Api",
            config=config,
            handler=HANDLER,
            env=API_ENV,
            layer=powertools_layer(self),
            timeout=Duration.seconds(10),
            memory_mb=512,
            placement=placement,
            transforms=True,  # shadow reads compare v3 with transform(legacy)
            values={
                "V3_TABLE": names.v3_table,
                "REPORTS_TABLE": names.reports_table,
            },
        ).function
        for role in config.roles:  # reads (and the GSIs it queries) and the legacy write, per source
            grant_table(self.function, config.legacy_table_arn(role), names.source_spec(role), READ + LEGACY_WRITE)
        grant_table(self.function, table_ref(self, "V3Ref", names.v3_table).arn, names.v3_spec(), READ)
        # e-mail claims and recent-write markers, written in the same transactions as legacy (app_handlers.ledger)
        api_table = table_ref(self, "ApiTableRef", names.api_table).arn
        grant_table(self.function, api_table, names.api_spec(), READ + LEGACY_WRITE + ("dynamodb:DeleteItem",))
        # shadow comparisons for the flip gate (controlplane.shadow_evidence): counters, only under shadow# keys
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:UpdateItem"],
                resources=[api_table],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{SHADOW_PREFIX}*"]}},
            )
        )
        # the read-source flag is the reports table's flip control item (controlplane.flag): that partition only
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem"],
                resources=[table_ref(self, "ReportsRef", names.reports_table).arn],
                conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [FLIP]}},
            )
        )
        self.api = self._rest_api(config)
        self.alarms = api_alarms(self, config=config, api=self.api)

    def _rest_api(self, config: StageConfig) -> apigw.RestApi:
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=RemovalPolicy.RETAIN if config.retain else RemovalPolicy.DESTROY,
        )
        api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{config.names.prefix}-cutover-api",
            endpoint_configuration=apigw.EndpointConfiguration(types=[apigw.EndpointType.REGIONAL]),
            cloud_watch_role=config.api_gateway_cloudwatch_role,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN if config.api_gateway_cloudwatch_role else None,
            deploy_options=apigw.StageOptions(
                stage_name=config.stage,
                throttling_rate_limit=100,
                throttling_burst_limit=200,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                tracing_enabled=True,
            ),
            default_method_options=apigw.MethodOptions(authorization_type=apigw.AuthorizationType.IAM),
        )
        integration = apigw.LambdaIntegration(self.function)
        validator = api.add_request_validator("Validate", validate_request_body=True, validate_request_parameters=True)
        models = {
            path: api.add_model(
                f"{schema['title']}Model", content_type="application/json", schema=apigw.JsonSchema(**_schema(schema))
            )
            for path, schema in BODY_SCHEMAS.items()
        }
        for method, path in ROUTES:
            resource = api.root
            for part in path.split("/"):
                resource = resource.get_resource(part) or resource.add_resource(part)
            body = {"application/json": models[path]} if method == "POST" else None
            resource.add_method(
                method,
                integration,
                request_validator=validator,
                request_models=body,
                request_parameters=REQUIRED_PARAMETERS.get(path) if method == "GET" else None,
            )
        acks = []
        if config.api_gateway_cloudwatch_role:
            acks.append(
                Acknowledgment(
                    id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
                    reason="Opt-in only: the AWS-managed role API Gateway needs to write access/execution logs.",
                )
            )
        Validations.of(api).acknowledge(
            *acks,
            Acknowledgment(
                id="AwsSolutions-COG4",
                reason="Callers are AWS services/roles authorised with SigV4 "
                "(AWS_IAM), not end users with Cognito identities.",
            ),
            Acknowledgment(
                id="AwsSolutions-APIG3",
                reason="IAM-authorised internal API with stage throttling; "
                "attach the organisation's WAF web ACL if it is exposed beyond internal callers.",
            ),
        )
        return api


def _schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Our plain JSON-schema dict -> `apigw.JsonSchema` keyword arguments (draft 4)."""
    kinds = {
        "object": apigw.JsonSchemaType.OBJECT,
        "string": apigw.JsonSchemaType.STRING,
        "number": apigw.JsonSchemaType.NUMBER,
        "null": apigw.JsonSchemaType.NULL,
    }
    names = {"minLength": "min_length", "maxLength": "max_length", "additionalProperties": "additional_properties"}
    out: dict[str, Any] = {"schema": apigw.JsonSchemaVersion.DRAFT4} if "title" in schema else {}
    for key, value in schema.items():
        if key == "type":
            out["type"] = [kinds[v] for v in value] if isinstance(value, list) else kinds[value]
        elif key == "properties":
            out["properties"] = {name: apigw.JsonSchema(**_schema(prop)) for name, prop in value.items()}
        else:
            out[names.get(key, key)] = value
    return out
