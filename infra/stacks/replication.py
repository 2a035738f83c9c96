"""Replication stack: replicator + stream event sources, distributed backfill, monitoring."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from cutover.names import ORDERS, USERS
from infra.config import StageConfig
from infra.constructs.backfill import Backfill
from infra.constructs.code import powertools_layer
from infra.constructs.function import Placement
from infra.constructs.monitoring import Monitoring
from infra.constructs.refs import table_ref
from infra.constructs.replicator import Replicator


class ReplicationStack(Stack):
    """Attributes: `replicator`, `backfill`, `monitoring`."""

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
        # Legacy tables are imported here from config (exact ARNs, no cross-stack export).
        legacy_arns = {
            USERS: config.legacy_table_arn(config.legacy_users_stream_arn),
            ORDERS: config.legacy_table_arn(config.legacy_orders_stream_arn),
        }
        legacy_tables = {
            source: dynamodb.Table.from_table_attributes(
                self,
                f"Legacy{source.title()}",
                table_arn=legacy_arns[source],
                table_stream_arn=config.legacy_users_stream_arn if source == USERS else config.legacy_orders_stream_arn,
            )
            for source in (USERS, ORDERS)
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
        )
