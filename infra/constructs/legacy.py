"""Imported legacy tables (never managed) plus the deploy-time verification custom resource."""
from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import Acknowledgment, CustomResource, Duration, RemovalPolicy, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.code import ARCHITECTURE, RUNTIME
from infra.constructs.tables import grant_table
from infra.nag import acknowledge, arn_ref

_HANDLER_DIR = Path(__file__).resolve().parents[1] / "functions" / "legacy_check"


class LegacyTables(Construct):
    """`users` / `orders`: `Table.from_table_attributes` with exact table and stream ARNs.

    Attributes: `users`, `orders` (ITable), `users_arn`, `orders_arn` (exact table ARNs).
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        names = config.names
        self.users_arn = config.legacy_table_arn(config.legacy_users_stream_arn)
        self.orders_arn = config.legacy_table_arn(config.legacy_orders_stream_arn)
        self.users = dynamodb.Table.from_table_attributes(
            self, "Users", table_arn=self.users_arn, table_stream_arn=config.legacy_users_stream_arn,
            global_indexes=[ix.name for ix in names.users_spec().indexes],
        )
        self.orders = dynamodb.Table.from_table_attributes(
            self, "Orders", table_arn=self.orders_arn, table_stream_arn=config.legacy_orders_stream_arn,
            global_indexes=[ix.name for ix in names.orders_spec().indexes],
        )
        self._verify(config)

    def _verify(self, config: StageConfig) -> None:
        check = lambda_.Function(
            self, "CheckFunction",
            runtime=RUNTIME, architecture=ARCHITECTURE, handler="index.on_event",
            code=lambda_.Code.from_asset(str(_HANDLER_DIR), exclude=["__pycache__", "*.pyc"]), timeout=Duration.minutes(1),
            description="Fails the deploy if a legacy table is missing, not ACTIVE or has no NEW_AND_OLD_IMAGES stream",
            log_group=logs.LogGroup(self, "CheckLogs", retention=logs.RetentionDays.ONE_YEAR,
                                    removal_policy=RemovalPolicy.RETAIN if config.retain else RemovalPolicy.DESTROY),
        )
        for arn, spec in ((self.users_arn, config.names.users_spec()), (self.orders_arn, config.names.orders_spec())):
            grant_table(check, arn, spec, ["dynamodb:DescribeTable"], indexes=False)
        provider = cr.Provider(self, "CheckProvider", on_event_handler=check)
        CustomResource(
            self, "Check", service_token=provider.service_token, resource_type="Custom::LegacyTableCheck",
            properties={"Tables": json.dumps({config.legacy_users_table: config.legacy_users_stream_arn,
                                              config.legacy_orders_table: config.legacy_orders_stream_arn})},
        )
        Validations.of(self).acknowledge(
            Acknowledgment(id="AwsSolutions-L1", reason="python3.12 pinned to match the application functions; "
                           "the Provider framework's Node.js runtime is chosen by aws-cdk-lib."),
            Acknowledgment(id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                           reason="Managed basic execution policy only writes the functions' own logs."),
        )
        acknowledge(self, f"AwsSolutions-IAM5[Resource::{arn_ref(check)}:*]",
                    "The CDK Provider framework may invoke any version of its own on-event function.")
