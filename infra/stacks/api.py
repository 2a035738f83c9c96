"""API stack: REST API (API Gateway v1) with IAM auth in front of the app handlers.

Why REST rather than HTTP API: per-method throttling, usage plans, AWS WAF association,
resource policies and request validation are REST-only, and a migration API that other services
call with SigV4 (AWS_IAM) needs exactly those controls; HTTP API's lower price does not matter
at this traffic.
"""
from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from cutover.environment import API_ENV
from infra.config import StageConfig
from infra.constructs.code import powertools_layer
from infra.constructs.function import CutoverFunction, Placement
from infra.constructs.refs import app_secret_arn, parameter_arn, table_ref
from infra.constructs.tables import READ, grant_table

HANDLER = "app_handlers.api.lambda_handler"
ROUTES = (("POST", "users"), ("GET", "users/{userId}"), ("GET", "users"),
          ("GET", "users/{userId}/orders"), ("POST", "orders"))
LEGACY_WRITE = ("dynamodb:PutItem",)  # registrations and orders are written to legacy (source of truth)


class ApiStack(Stack):
    """Attributes: `function`, `api`."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig,
                 placement: Placement | None = None, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        names = config.names
        secret_arn = app_secret_arn(self, config)
        self.function = CutoverFunction(
            self, "Api", config=config, handler=HANDLER, env=API_ENV, layer=powertools_layer(self, config.powertools_layer_version),
            timeout=Duration.seconds(10), memory_mb=512, placement=placement,
            values={"USERS_TABLE": config.legacy_users_table, "ORDERS_TABLE": config.legacy_orders_table,
                    "V3_TABLE": names.v3_table, "READ_SOURCE_PARAMETER": names.read_source_parameter,
                    "APP_SECRET_ARN": secret_arn},
        ).function
        users_arn = config.legacy_table_arn(config.legacy_users_stream_arn)
        orders_arn = config.legacy_table_arn(config.legacy_orders_stream_arn)
        grant_table(self.function, users_arn, names.users_spec(), READ + LEGACY_WRITE)
        grant_table(self.function, orders_arn, names.orders_spec(), READ + LEGACY_WRITE)
        grant_table(self.function, table_ref(self, "V3Ref", names.v3_table).arn, names.v3_spec(), READ)
        # e-mail claims and recent-write markers, written in the same transactions as legacy (app_handlers.ledger)
        grant_table(self.function, table_ref(self, "ApiTableRef", names.api_table).arn, names.api_spec(),
                    READ + LEGACY_WRITE + ("dynamodb:DeleteItem",))
        iam.Grant.add_to_principal(grantee=self.function, actions=["ssm:GetParameter"],
                                   resource_arns=[parameter_arn(self, names.read_source_parameter)])
        iam.Grant.add_to_principal(grantee=self.function, actions=["secretsmanager:GetSecretValue"],
                                   resource_arns=[f"{secret_arn}-??????"])
        self.api = self._rest_api(config)

    def _rest_api(self, config: StageConfig) -> apigw.RestApi:
        access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.ONE_YEAR,
                                    removal_policy=RemovalPolicy.RETAIN if config.retain else RemovalPolicy.DESTROY)
        api = apigw.RestApi(
            self, "RestApi", rest_api_name=f"{config.names.prefix}-cutover-api",
            cloud_watch_role=True, cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=config.stage, throttling_rate_limit=100, throttling_burst_limit=200,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=True),
                logging_level=apigw.MethodLoggingLevel.ERROR, tracing_enabled=True,
            ),
            default_method_options=apigw.MethodOptions(authorization_type=apigw.AuthorizationType.IAM),
        )
        integration = apigw.LambdaIntegration(self.function)
        validator = api.add_request_validator("Validate", validate_request_body=True, validate_request_parameters=True)
        for method, path in ROUTES:
            resource = api.root
            for part in path.split("/"):
                resource = resource.get_resource(part) or resource.add_resource(part)
            resource.add_method(method, integration, request_validator=validator)
        Validations.of(api).acknowledge(
            Acknowledgment(id="AwsSolutions-COG4", reason="Callers are AWS services/roles authorised with SigV4 "
                           "(AWS_IAM), not end users with Cognito identities."),
            Acknowledgment(id="AwsSolutions-APIG3", reason="IAM-authorised internal API with stage throttling; "
                           "attach the organisation's WAF web ACL if it is exposed beyond internal callers."),
            Acknowledgment(id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
                           reason="AWS-managed role API Gateway needs to write access/execution logs."),
        )
        return api
