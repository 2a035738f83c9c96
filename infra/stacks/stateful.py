"""Stateful stack: everything whose loss is data loss. Termination protection is on in prod.

Backups cover the target table (v3), every legacy source table and all of cutover's own tables
(quarantine holds the only copy of a bad legacy item as it was seen; reports are the flip's
evidence). `-c backupVaultLock=governance|compliance` adds an AWS Backup Vault Lock (offered for
prod; compliance mode cannot be undone after its 3-day grace period, see runbooks/deploy.md).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Duration, Stack, Validations
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.flag import ReadSourceFlag
from infra.constructs.legacy import LegacyTables
from infra.constructs.tables import table_from_spec
from infra.nag import acknowledge, checkov_skip
from infra.retention import retained_unless_new


class StatefulStack(Stack):
    """Legacy tables (imported + verified, one per source role), the target table and cutover's own
    tables, the read-source flag (created only if absent) and the backup plan. The target's keys and
    GSIs are the migration definition's (`Names.v3_spec`). The API's table exists only with the
    example API (`config.api`).

    Attributes: `legacy`, `v3`, `own` (role -> Table), `api_table` (or None), `read_source`, `vault`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, termination_protection=config.is_prod, **kwargs)
        names = config.names
        self.legacy = LegacyTables(self, "Legacy", config=config)
        self.v3 = table_from_spec(
            self, "V3Table", names.v3_spec(), retain=config.retain, pitr=config.point_in_time_recovery
        )
        self.own: dict[str, dynamodb.Table] = {
            spec.role: table_from_spec(
                self, f"{spec.role.title()}Table", spec, retain=config.retain, pitr=config.point_in_time_recovery
            )
            for spec in names.own_specs()
        }
        self.api_table = (
            table_from_spec(
                self, "ApiTable", names.api_spec(), retain=config.retain, pitr=config.point_in_time_recovery
            )
            if config.api
            else None
        )  # e-mail claims + recent writes
        # Created by a deploy only if absent; a deploy never changes or deletes it (infra/constructs/flag.py).
        self.read_source = ReadSourceFlag(self, "ReadSource", config=config)
        self._backup(config)
        self._after_the_custom_resources()
        self._acknowledge(config)

    @property
    def _api_tables(self) -> tuple[dynamodb.Table, ...]:
        return () if self.api_table is None else (self.api_table,)

    def _backup(self, config: StageConfig) -> None:
        lock = None
        if config.backup_vault_lock != "off":
            # governance: removable by a privileged principal; compliance: immutable after 3 days.
            lock = backup.LockConfiguration(
                min_retention=Duration.days(config.backup_retention_days),
                changeable_for=Duration.days(3) if config.backup_vault_lock == "compliance" else None,
            )
        self.vault = vault = backup.BackupVault(
            self,
            "Vault",
            backup_vault_name=f"{config.names.prefix}-cutover",
            lock_configuration=lock,
            removal_policy=retained_unless_new(config.retain),
        )
        plan = backup.BackupPlan(
            self, "BackupPlan", backup_plan_name=f"{config.names.prefix}-cutover", backup_vault=vault
        )
        plan.add_rule(
            backup.BackupPlanRule(
                rule_name="daily",
                schedule_expression=events.Schedule.cron(hour="3", minute="0"),
                delete_after=Duration.days(config.backup_retention_days),
            )
        )
        selection = plan.add_selection(
            "Tables",
            resources=[
                backup.BackupResource.from_dynamo_db_table(self.v3),
                *[backup.BackupResource.from_dynamo_db_table(table) for table in self.own.values()],
                *[backup.BackupResource.from_dynamo_db_table(table) for table in self._api_tables],
                *[backup.BackupResource.from_arn(arn) for arn in self.legacy.arns.values()],
            ],
        )
        acknowledge(
            selection,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSBackupServiceRolePolicyForBackup]",
            "AWS Backup's own managed service-role policy is the supported way to let it snapshot tables.",
        )

    def _after_the_custom_resources(self) -> None:
        """Create no table and no vault until the legacy check and the flag succeed (the likeliest to
        fail a first create). Both have fixed names and tables stay retained even when their own
        creation rolls back (deletion protection would fail the rollback's DeleteTable): created
        first, a failing check would leave them behind and the next deploy would fail with "already
        exists" (infra/retention.py)."""
        for resource in (self.v3, *self.own.values(), *self._api_tables, self.vault):
            resource.node.add_dependency(self.legacy.check, self.read_source.resource)

    def _acknowledge(self, config: StageConfig) -> None:
        if not config.point_in_time_recovery:
            for table in (self.v3, *self.own.values(), *self._api_tables):
                reason = "dev only: data is seeded and disposable; PITR is on in staging and prod."
                Validations.of(table).acknowledge(Acknowledgment(id="AwsSolutions-DDB3", reason=reason))
                checkov_skip(table, "CKV_AWS_28", reason)
