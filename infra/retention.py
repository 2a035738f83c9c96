"""Synth-time guard that no deploy can delete state, checked on the SYNTHESIZED templates.

Why a validation plugin and not an Aspect: an Aspect sees each construct's removal options, so
`table.add_override("DeletionPolicy", "Delete")` (or a raw `CfnResource`) sails past it and ships
a deletable table. This plugin reads the template files CloudFormation will receive, after every
override, so what it approves is what gets deployed. Synthesis fails naming each offender.

It runs for every stage whose data must survive (the staging and production classes, which every
stage name the mapping does not know falls into: `StageConfig.retain`); a development-class stage
is disposable by design (seeded data, DESTROY so a sandbox can be torn down).

Two deletion policies pass, both with `UpdateReplacePolicy: Retain`: `Retain`, and
`RetainExceptOnCreate`, which deletes a resource only when the stack operation that created it
rolls back, so a failed first deploy leaves no fixed-name leftover that makes the next one fail with
"already exists". Where each is used, and why, is in `retained_unless_new`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    IPolicyValidationContextBeta1,
    IPolicyValidationPluginBeta1,
    PolicyValidationPluginReportBeta1,
    PolicyViolatingResourceBeta1,
    PolicyViolationBeta1,
    RemovalPolicy,
)

# Every resource type that holds state a deploy must never delete or replace away.
STATEFUL_TYPES = frozenset(
    {
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",  # data
        "AWS::SecretsManager::Secret",
        "AWS::SSM::Parameter",  # secrets, flags
        "AWS::KMS::Key",  # losing a key loses what it encrypted
        "AWS::Backup::BackupVault",  # recovery points
        "AWS::SQS::Queue",  # ours hold failed stream records
        "AWS::Logs::LogGroup",  # audit trail (legacy-table audit, access logs)
        "AWS::S3::Bucket",
        "AWS::Kinesis::Stream",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::EFS::FileSystem",
        "AWS::Cognito::UserPool",
        "Custom::ReadSourceFlag",  # the read-source flag (infra/constructs/flag.py)
    }
)
TABLE_TYPES = frozenset({"AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"})
# What a stack deletion may do to a stateful resource (RetainExceptOnCreate: see module doc); a
# replacing change must always keep the old one (UpdateReplacePolicy has no "except on create").
KEEPING_DELETION_POLICIES = frozenset({"Retain", "RetainExceptOnCreate"})
RETAIN_RULE = "cutover-RetainState"
PROTECTION_RULE = "cutover-TableDeletionProtection"


def problems_in(template: dict[str, Any]) -> dict[str, list[str]]:
    """Rule name -> logical ids violating it in one template (pure; what `validate` reports)."""
    found: dict[str, list[str]] = {RETAIN_RULE: [], PROTECTION_RULE: []}
    for lid, resource in (template.get("Resources") or {}).items():
        kind = resource.get("Type")
        if kind not in STATEFUL_TYPES:
            continue
        if (
            resource.get("DeletionPolicy") not in KEEPING_DELETION_POLICIES
            or resource.get("UpdateReplacePolicy") != "Retain"
        ):
            found[RETAIN_RULE].append(lid)
        if kind in TABLE_TYPES and not _protected(kind, resource.get("Properties") or {}):
            found[PROTECTION_RULE].append(lid)
    return found


def _protected(kind: str, props: dict[str, Any]) -> bool:
    if kind == "AWS::DynamoDB::Table":
        return props.get("DeletionProtectionEnabled") is True
    replicas = props.get("Replicas") or []
    return bool(replicas) and all(r.get("DeletionProtectionEnabled") is True for r in replicas)


def retained(retain: bool) -> RemovalPolicy:
    """RETAIN outside dev (DESTROY in dev): for what must survive even the rollback of its own creation."""
    return RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY


def retained_unless_new(retain: bool) -> RemovalPolicy:
    """RETAIN_ON_UPDATE_OR_DELETE outside dev (DESTROY in dev): kept through every stack deletion and
    replacement, deleted only if the operation that created it rolls back.

    Safe only where a resource rolled back in its own creation holds nothing yet: the published names
    (rewritten by every deploy), the on-failure queues (a record sent there during a failed create
    points at stream records the retried deploy re-reads from TRIM_HORIZON), the backup vault (its
    first recovery point comes from the 03:00 schedule) and the alarm topic's key (it encrypts only
    the topic, which is not retained; no table uses it: tables are AWS-managed). Kept at `retained`:
    tables (deletion protection would fail the rollback's DeleteTable; they are created after the
    legacy check and the flag instead), the read-source flag (created only if absent, so never "already exists")
    and log groups (generated names never collide, and they hold why the failed create failed).
    """
    return RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE if retain else RemovalPolicy.DESTROY


_DESCRIPTIONS = {
    RETAIN_RULE: (
        "A resource that holds state has a DeletionPolicy other than Retain or RetainExceptOnCreate, or an "
        "UpdateReplacePolicy other than Retain, in the synthesized template: a stack deletion or a replacing "
        "change would delete its data.",
        "Use infra.retention.retained or retained_unless_new (outside dev) and remove any "
        "add_override/add_deletion_override of DeletionPolicy or UpdateReplacePolicy.",
    ),
    PROTECTION_RULE: (
        "A DynamoDB table has no deletion protection: anyone (or any tool) with DeleteTable could drop it.",
        "Pass deletion_protection=True (table_from_spec does this outside dev).",
    ),
}


@jsii.implements(IPolicyValidationPluginBeta1)
class RetentionCheck:
    """CDK policy-validation plugin: fail synthesis if any template could delete state (see module doc)."""

    def __init__(self, stage: str) -> None:
        self._stage = stage

    @property
    def name(self) -> str:
        return "cutover-retention"

    @property
    def version(self) -> str | None:
        return "1"

    @property
    def rule_ids(self) -> list[str] | None:
        return [RETAIN_RULE, PROTECTION_RULE]

    def validate(self, context: IPolicyValidationContextBeta1) -> PolicyValidationPluginReportBeta1:
        offenders: dict[str, list[PolicyViolatingResourceBeta1]] = {RETAIN_RULE: [], PROTECTION_RULE: []}
        for path in context.template_paths:
            template = json.loads(Path(path).read_text())
            for rule, lids in problems_in(template).items():
                offenders[rule] += [
                    PolicyViolatingResourceBeta1(
                        resource_logical_id=lid, template_path=path, locations=[f"Resources/{lid}"]
                    )
                    for lid in lids
                ]
        violations = [
            PolicyViolationBeta1(
                rule_name=rule,
                description=_DESCRIPTIONS[rule][0],
                fix=_DESCRIPTIONS[rule][1],
                severity="error",
                violating_resources=resources,
            )
            for rule, resources in offenders.items()
            if resources
        ]
        return PolicyValidationPluginReportBeta1(success=not violations, violations=violations)
