"""Replication stack: replicator + one stream event source per source role, distributed backfill and
reconcile, monitoring, and the deployment's resolved names published in SSM for the CLI
(`Names.deployment_parameter`)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.backfill import Backfill
from infra.constructs.code import powertools_layer
from infra.constructs.function import Placement
from infra.constructs.monitoring import Monitoring
from infra.constructs.reconcile import Reconcile
from infra.constructs.refs import construct_name, table_ref
from infra.constructs.replicator import Replicator
from infra.retention import retained_unless_new


class ReplicationStack(Stack):
    """Attributes: `replicator`, `backfill`, `reconcile`, `monitoring`, `published` (the SSM parameter)."""

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
        layer = powertools_layer(self)
        tables = {
            spec.role: table_ref(self, f"{spec.role.title()}Ref", spec.name)
            for spec in (names.v3_spec(), *names.own_specs())
        }
        # Legacy tables are imported here from config (exact ARNs, no cross-stack export), one per source.
        legacy_arns = {role: config.legacy_table_arn(role) for role in config.roles}
        legacy_tables = {
            role: dynamodb.Table.from_table_attributes(
                self,
                f"Legacy{construct_name(role)}",
                table_arn=legacy_arns[role],
                table_stream_arn=config.legacy_stream_arn(role),
            )
            for role in config.roles
        }
        self.replicator = Replicator(
            self,
            "Replication",
            config=config,
            legacy=legacy_tables,
            v3=tables["v3"],
            quarantine=tables["quarantine"],
            checkpoints=tables["checkpoints"],
            layer=layer,
            placement=placement,
        )
        self.backfill = Backfill(
            self, "Backfill", config=config, legacy=legacy_arns, tables=tables, layer=layer, placement=placement
        )
        self.reconcile = Reconcile(
            self, "Reconcile", config=config, legacy=legacy_arns, tables=tables, layer=layer, placement=placement
        )
        self.published = self._publish_names(config)
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            replicator=self.replicator.function,
            failure_queues=self.replicator.failure_queues,
            v3=tables["v3"].table,
            quarantine=tables["quarantine"].table,
            backfill=self.backfill.state_machine,
            legacy=legacy_tables,
            reconcile=self.reconcile.state_machine,
        )

    def _publish_names(self, config: StageConfig) -> ssm.StringParameter:
        """The names this deployment resolved, where the CLI reads them (cutover_cli/_common.py): the
        legacy tables may have been named by hand, and `--remote` finds the state machines here, never
        from a hand-typed ARN. Retained outside dev, except when its own creation rolls back: every deploy
        rewrites it, so a failed first deploy must not leave it behind (infra/retention.py)."""
        names = config.names
        parameter = ssm.StringParameter(
            self,
            "DeploymentNames",
            parameter_name=names.deployment_parameter,
            description="cutover: this deployment's resolved table names and state machine ARNs (read by the CLI)",
            string_value=self.to_json_string(
                {
                    # which definition the functions run (its `Migration.name`), so the CLI can refuse
                    # to drive a deployment with another one
                    "migration": config.migration.name,
                    # {role: legacy table}, read back by Names.with_published
                    "sourceTables": dict(sorted(config.source_tables().items())),
                    "v3Table": names.v3_table,
                    "checkpointsTable": names.checkpoints_table,
                    "quarantineTable": names.quarantine_table,
                    "reportsTable": names.reports_table,
                    "backfillStateMachineArn": self.backfill.state_machine.state_machine_arn,
                    "reconcileStateMachineArn": self.reconcile.state_machine.state_machine_arn,
                }
            ),
        )
        parameter.apply_removal_policy(retained_unless_new(config.retain))
        return parameter
