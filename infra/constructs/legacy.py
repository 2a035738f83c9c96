"""Imported legacy tables (never managed) plus the deploy-time verification custom resource.

The legacy tables belong to the Serverless Framework stack (runbooks/deploy.md step 0 makes them
safe there first). This app never manages them, and every deploy re-checks that they are still
safe to build on: ACTIVE, NEW_AND_OLD_IMAGES stream, point-in-time recovery, deletion protection.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from aws_cdk import CustomResource
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.provider import DeployTimeFunction
from infra.constructs.tables import grant_table

CHECK_ACTIONS = ("dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups")


class LegacyTables(Construct):
    """`users` / `orders`: `Table.from_table_attributes` with exact table and stream ARNs.

    Attributes: `users`, `orders` (ITable), `users_arn`, `orders_arn` (exact table ARNs), `check`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        names = config.names
        self.users_arn = config.legacy_table_arn(config.legacy_users_stream_arn)
        self.orders_arn = config.legacy_table_arn(config.legacy_orders_stream_arn)
        self.users = dynamodb.Table.from_table_attributes(
            self,
            "Users",
            table_arn=self.users_arn,
            table_stream_arn=config.legacy_users_stream_arn,
            global_indexes=[ix.name for ix in names.users_spec().indexes],
        )
        self.orders = dynamodb.Table.from_table_attributes(
            self,
            "Orders",
            table_arn=self.orders_arn,
            table_stream_arn=config.legacy_orders_stream_arn,
            global_indexes=[ix.name for ix in names.orders_spec().indexes],
        )
        self._verify(config)

    def _verify(self, config: StageConfig) -> None:
        check = DeployTimeFunction(
            self,
            "Check",
            config=config,
            name="legacy_check",
            description="Fails the deploy if a legacy table is missing, not ACTIVE, has no NEW_AND_OLD_IMAGES "
            "stream, or has point-in-time recovery or deletion protection off",
        )
        for arn, spec in ((self.users_arn, config.names.users_spec()), (self.orders_arn, config.names.orders_spec())):
            grant_table(check.function, arn, spec, CHECK_ACTIONS, indexes=False)
        self.check = CustomResource(
            self,
            "Verify",
            service_token=check.service_token,
            resource_type="Custom::LegacyTableCheck",
            properties={
                "Tables": json.dumps(
                    {
                        config.legacy_users_table: config.legacy_users_stream_arn,
                        config.legacy_orders_table: config.legacy_orders_stream_arn,
                    }
                ),
                # A new value every synth: CloudFormation re-runs the check on EVERY deploy, not
                # only when the tables change (protection can be switched off between deploys).
                "DeployRun": deploy_run(),
            },
        )


def deploy_run() -> str:
    """A value unique to this synth (UTC time + random), so the check's properties always change."""
    return f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}-{uuid.uuid4().hex[:8]}"
