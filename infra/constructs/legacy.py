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
from infra.constructs.refs import construct_name
from infra.constructs.tables import grant_table

CHECK_ACTIONS = ("dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups")


class LegacyTables(Construct):
    """One imported table per source role of the migration, with its exact table and stream ARNs.

    Attributes: `tables` (role -> ITable), `arns` (role -> exact table ARN), `check`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        names = config.names
        self.arns = {role: config.legacy_table_arn(role) for role in config.roles}
        self.tables = {
            role: dynamodb.Table.from_table_attributes(
                self,
                construct_name(role),
                table_arn=self.arns[role],
                table_stream_arn=config.legacy_stream_arn(role),
                global_indexes=[ix.name for ix in names.source_spec(role).indexes],
            )
            for role in config.roles
        }
        self._verify(config)

    def _verify(self, config: StageConfig) -> None:
        check = DeployTimeFunction(
            self,
            "Check",
            config=config,
            name="legacy_check",
            description="Fails the deploy if a legacy table is missing, not ACTIVE, has no NEW_AND_OLD_IMAGES "
            "stream, or has point-in-time recovery or deletion protection off (a rollback only logs a warning)",
        )
        for role in config.roles:
            grant_table(check.function, self.arns[role], config.names.source_spec(role), CHECK_ACTIONS, indexes=False)
        self.check = CustomResource(
            self,
            "Verify",
            service_token=check.service_token,
            resource_type="Custom::LegacyTableCheck",
            properties={
                "Tables": json.dumps(
                    {config.legacy_table(role): config.legacy_stream_arn(role) for role in config.roles}
                ),
                # A new value every synth: CloudFormation re-runs the check on EVERY deploy, not
                # only when the tables change (protection can be switched off between deploys);
                # and each pass answers a new physical id, so a rollback never re-checks (handler).
                "DeployRun": deploy_run(),
                # Tells the handler a rollback to a template without it predates recorded passes.
                "RecordsPasses": "true",
            },
        )


def deploy_run() -> str:
    """A value unique to this synth (UTC time + random), so the check's properties always change."""
    return f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}-{uuid.uuid4().hex[:8]}"
