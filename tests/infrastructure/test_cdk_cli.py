"""The real CDK CLI (pinned in package.json, installed into ./node_modules by `make`) synthesizes
the app from cdk.json with no -c flags, no credentials and no Docker, and refuses bad context."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
CDK = ROOT / "node_modules" / ".bin" / "cdk"


def _cdk(*args: str, outdir: Path) -> subprocess.CompletedProcess:
    if not CDK.exists():
        pytest.fail("the CDK CLI is not installed: run `make cdk-cli` (make test does it)")
    env = {
        **os.environ,
        "AWS_EC2_METADATA_DISABLED": "true",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        env.pop(var, None)  # prove synth needs no credentials
    return subprocess.run(
        [str(CDK), "synth", "--no-notices", "--no-version-reporting", "-q", "-o", str(outdir), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_cli_synthesizes_dev_from_a_fresh_clone(tmp_path):
    # When the CLI synthesizes with only cdk.json's context
    result = _cdk(outdir=tmp_path)
    # Then it succeeds and writes the three dev stacks
    assert result.returncode == 0, result.stderr[-3000:]
    templates = sorted(p.name for p in tmp_path.glob("*.template.json"))
    assert templates == [f"my-service-dev-{role}.template.json" for role in ("api", "replication", "stateful")]


def test_cli_refuses_a_prod_synth_with_missing_context(tmp_path):
    # When prod is synthesized without its legacy tables' values
    result = _cdk("-c", "stage=prod", outdir=tmp_path)
    # Then it fails with one line naming every missing value, and no template is written
    assert result.returncode != 0
    for key in ("legacyTables.users", "legacyStreamArns.orders", "costCenter"):
        assert f"{key} is missing" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.template.json"))


def _runbook_flags(stage: str) -> list[str]:
    """The -c flags runbooks/deploy.md step 2 builds into $CTX (with the optional ones it documents)."""
    account = {"staging": "222222222222", "prod": "333333333333"}[stage]
    arn = f"arn:aws:dynamodb:eu-west-1:{account}:table/my-service-{stage}-{{}}/stream/2025-01-01T00:00:00.000"
    context = {
        "stage": stage,
        "service": "my-service",
        "account": account,
        "region": "eu-west-1",
        # per source role, ROLE=VALUE,ROLE=VALUE: what a shell passes through $CTX unquoted
        "legacyTables": f"users=my-service-{stage}-users,orders=my-service-{stage}-orders",
        "legacyStreamArns": f"users={arn.format('users')},orders={arn.format('orders')}",
        "costCenter": "CC-1234",
        "alarmEmail": "oncall@example.com",
    }
    if stage == "staging":
        context["vpc"] = "true"
    else:
        context["backupVaultLock"] = "governance"
    return [flag for key, value in context.items() for flag in ("-c", f"{key}={value}")]


@pytest.mark.parametrize("stage", ["prod"])  # staging (with vpc) is synthesized the same way in-process (conftest)
def test_cli_synthesizes_prod_with_the_runbooks_full_context(stage, tmp_path):
    # When the CLI synthesizes as runbooks/deploy.md step 4 does (account, region and all values)
    result = _cdk(*_runbook_flags(stage), outdir=tmp_path)
    # Then cdk-nag, the retention check and CDK's own validation pass, and every stack is written
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    roles = ("api", "network", "replication", "stateful") if stage == "staging" else ("api", "replication", "stateful")
    assert sorted(p.name for p in tmp_path.glob("*.template.json")) == [
        f"my-service-{stage}-{r}.template.json" for r in roles
    ]


def test_cli_synthesizes_another_migration_chosen_by_context(tmp_path):
    # When the CLI synthesizes dev for the catalog definition, its legacy tables given as JSON objects
    arn = "arn:aws:dynamodb:us-east-1:111111111111:table/{}/stream/2025-01-01T00:00:00.000"
    tables = {"products": "catalog-dev-products", "reviews": "catalog-dev-reviews"}
    result = _cdk(
        "-c",
        "migration=migrations.catalog:MIGRATION",
        "-c",
        f"legacyTables={json.dumps(tables)}",
        "-c",
        "legacyStreamArns=" + json.dumps({role: arn.format(table) for role, table in tables.items()}),
        outdir=tmp_path,
    )
    # Then it succeeds without the seed's example API, and the functions run that definition
    assert result.returncode == 0, result.stderr[-3000:]
    templates = sorted(p.name for p in tmp_path.glob("*.template.json"))
    assert templates == [f"my-service-dev-{role}.template.json" for role in ("replication", "stateful")]
    replication = (tmp_path / "my-service-dev-replication.template.json").read_text()
    assert '"CUTOVER_MIGRATION": "migrations.catalog:MIGRATION"' in replication
