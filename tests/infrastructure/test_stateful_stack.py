"""Stateful stack per stage: the v3 table exactly per CONTRACT.md (the seed; the catalog's in
test_migrations.py), own tables, flag, backups."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

pytestmark = pytest.mark.infra

# Literal contract values (docs/CONTRACT.md), deliberately NOT read from cutover.names.
V3_KEYS = [{"AttributeName": "userId", "KeyType": "HASH"}, {"AttributeName": "recordType", "KeyType": "RANGE"}]
V3_GSIS = {
    "EmailLookupIndex": [
        {"AttributeName": "email", "KeyType": "HASH"},
        {"AttributeName": "recordType", "KeyType": "RANGE"},
    ],
    "TimeSeriesIndex": [
        {"AttributeName": "entityType", "KeyType": "HASH"},
        {"AttributeName": "timestamp", "KeyType": "RANGE"},
    ],
}


def _table(synth, name):
    found = [
        res for _, res in synth.resources("AWS::DynamoDB::Table", "stateful") if res["Properties"]["TableName"] == name
    ]
    assert len(found) == 1, f"expected exactly one table {name}"
    return found[0]


def test_v3_table_matches_the_contract(seed_synth):
    synth = seed_synth
    # Given the synthesized stateful stack
    # When we read the v3 table
    table = _table(synth, f"my-service-{synth.stage}-users-v3")
    props = table["Properties"]
    # Then keys, both KEYS_ONLY GSIs, on-demand and AWS-managed encryption are exactly as contracted
    assert props["KeySchema"] == V3_KEYS
    gsis = {g["IndexName"]: g for g in props["GlobalSecondaryIndexes"]}
    assert set(gsis) == set(V3_GSIS)
    for name, keys in V3_GSIS.items():
        assert gsis[name]["KeySchema"] == keys
        assert gsis[name]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert {d["AttributeName"] for d in props["AttributeDefinitions"]} == {
        "userId",
        "recordType",
        "email",
        "entityType",
        "timestamp",
    }


def test_retention_and_pitr_follow_the_stage(synth):
    # Given every table this app manages
    tables = synth.resources("AWS::DynamoDB::Table", "stateful")
    # v3 + checkpoints + quarantine + reports (+ api with the seed's example API); legacy tables are never managed
    assert len(tables) == (5 if synth.migration == "seed" else 4)
    for _, table in tables:
        pitr = table["Properties"].get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled", False)
        if synth.stage == "dev":
            # Then dev is disposable
            assert table["DeletionPolicy"] == "Delete"
        else:
            # Then staging and prod keep their data through a deletion or a replacing change, with PITR
            assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
            assert table["Properties"]["DeletionProtectionEnabled"] is True
            assert pitr is True


def test_no_table_is_created_before_the_legacy_check_and_the_flag_succeed(synth):
    # Given the stateful stack: its tables are retained (and deletion-protected outside dev), so a
    # first create rolled back after them would leave fixed names that fail the next deploy
    resources = synth.templates["stateful"]["Resources"]
    first = {lid for lid, r in resources.items() if r["Type"] in ("Custom::LegacyTableCheck", "Custom::ReadSourceFlag")}
    # Then every table and the backup vault wait for both deploy-time custom resources (the likeliest
    # to fail a first create): a failing check or flag creates none of them
    waiting = [r for r in resources.values() if r["Type"] in ("AWS::DynamoDB::Table", "AWS::Backup::BackupVault")]
    assert len(first) == 2 and waiting and all(first <= set(r.get("DependsOn", [])) for r in waiting)


def test_legacy_tables_are_imported_not_managed(synth):
    # Given the legacy table names for this stage
    legacy = {synth.legacy_table(role) for role in synth.roles}
    names = {res["Properties"]["TableName"] for _, res in synth.resources("AWS::DynamoDB::Table")}
    # Then no stack creates them, and the verification custom resource checks each, with its stream
    assert not names & legacy
    checks = synth.resources("Custom::LegacyTableCheck", "stateful")
    assert len(checks) == 1
    assert json.loads(checks[0][1]["Properties"]["Tables"]) == {
        synth.legacy_table(role): synth.legacy_stream(role) for role in synth.roles
    }


def test_own_tables_use_the_cutover_prefix(synth):
    names = {res["Properties"]["TableName"] for _, res in synth.resources("AWS::DynamoDB::Table", "stateful")}
    prefix = f"my-service-{synth.stage}-cutover-"
    assert {prefix + r for r in ("checkpoints", "quarantine", "reports")} <= names


def test_backup_plan_is_daily_with_stage_retention(synth):
    template = Template.from_json(synth.templates["stateful"])
    days = 30 if synth.stage == "prod" else 7
    template.has_resource_properties(
        "AWS::Backup::BackupPlan",
        {
            "BackupPlan": {
                "BackupPlanRule": [
                    Match.object_like(
                        {"ScheduleExpression": "cron(0 3 * * ? *)", "Lifecycle": {"DeleteAfterDays": days}}
                    )
                ]
            }
        },
    )
    selection = synth.resources("AWS::Backup::BackupSelection", "stateful")[0][1]
    resources = str(selection["Properties"]["BackupSelection"]["Resources"])
    assert "V3Table" in resources  # v3 by reference...
    for own in ("QuarantineTable", "ReportsTable", "CheckpointsTable"):
        assert own in resources  # quarantine holds the only copy of a bad item as seen
    assert all(synth.legacy_arn(role) in resources for role in synth.roles)  # legacy by exact ARN


def test_termination_protection_only_in_prod(synth):
    assert synth.stacks["stateful"].termination_protection is (synth.stage == "prod")


def test_no_secret_is_created(synth):
    # no handler reads Secrets Manager; a migration's transform secrets are the team's own SecureString
    # parameters (CloudFormation cannot create one), read by their pinned version, never created here
    assert synth.resources("AWS::SecretsManager::Secret") == []
    assert not [p for _, p in synth.resources("AWS::SSM::Parameter") if "/secrets/" in json.dumps(p)]


@pytest.mark.parametrize("mode, grace", [("governance", None), ("compliance", 3)])
def test_backup_vault_lock_is_a_documented_opt_in(mode, grace, synth_with):
    template = synth_with("prod", backupVaultLock=mode)["stateful"]
    (vault,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Backup::BackupVault"]
    assert vault["LockConfiguration"]["MinRetentionDays"] == 30
    assert vault["LockConfiguration"].get("ChangeableForDays") == grace


def test_no_vault_lock_unless_asked(synth):
    (vault,) = [r["Properties"] for _, r in synth.resources("AWS::Backup::BackupVault", "stateful")]
    assert "LockConfiguration" not in vault
