"""A stage to rehearse: its legacy tables made as the Serverless stack made them, and its cloud
assembly synthesized against them, the way runbooks/deploy.md synthesizes it.

Synthesis runs `python -m infra.app` in a child process with the CDK CLI's protocol
(`CDK_CONTEXT_JSON`, `CDK_OUTDIR`): the operator's tools do not import the CDK app (the layer
contract in pyproject.toml), and jsii's Node process stays out of this one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cutover.errors import ConfigError
from cutover.names import Names

ROOT = Path(__file__).resolve().parents[2]
REHEARSAL_COST_CENTER = "rehearsal"  # costCenter is required outside dev; any value tags alike


def create_legacy_tables(names: Names, dynamodb: Any) -> dict[str, tuple[str, str]]:
    """Each source role's legacy table, as the Serverless Framework stack has it before cutover is
    deployed: NEW_AND_OLD_IMAGES stream, point-in-time recovery and deletion protection on (what
    the deploy-time legacy check demands). Returns role -> (table name, stream ARN)."""
    made: dict[str, tuple[str, str]] = {}
    for spec in names.legacy_specs():
        kwargs = spec.create_table_kwargs()
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        kwargs["DeletionProtectionEnabled"] = True
        table = dynamodb.create_table(**kwargs)["TableDescription"]
        dynamodb.update_continuous_backups(
            TableName=spec.name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
        made[spec.role] = (spec.name, table["LatestStreamArn"])
    return made


OWNED = ("account", "region", "legacyTables", "legacyStreamArns")  # the rehearsal's own, whatever -c says


def stage_context(
    *,
    service: str,
    stage: str,
    migration: str | None,
    legacy: Mapping[str, tuple[str, str]],
    account: str,
    region: str,
    extra: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """cdk.json's context, the caller's -c values (the runbook's `$CTX` as it is), then what the
    rehearsal owns: the stage, service and migration it rehearses, the local account and region,
    and the local legacy tables and their streams (`OWNED` values given with -c are replaced)."""
    context: dict[str, Any] = dict(json.loads((ROOT / "cdk.json").read_text())["context"])
    context.update(extra or {})
    context.update(
        {
            "service": service,
            "stage": stage,
            "account": account,
            "region": region,
            "legacyTables": {role: table for role, (table, _) in legacy.items()},
            "legacyStreamArns": {role: stream for role, (_, stream) in legacy.items()},
        }
    )
    if stage != "dev":
        context.setdefault("costCenter", REHEARSAL_COST_CENTER)
    if migration:
        context["migration"] = migration
    else:
        context.pop("migration", None)
    return context


def synthesize(context: Mapping[str, Any], outdir: Path, *, timeout: float = 600.0) -> Path:
    """`cdk synth` of the app with this context into `outdir`; a refused context or a cdk-nag or
    retention finding is a ConfigError with the app's own message."""
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps(dict(context)),
        "CDK_OUTDIR": str(outdir),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "infra.app"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ConfigError(f"cdk synth of stage {context.get('stage')} took over {timeout:.0f}s") from exc
    if done.returncode != 0 or not (outdir / "manifest.json").exists():
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        said = next((line for line in reversed(lines) if line.startswith("error:")), lines[-1] if lines else "")
        raise ConfigError(f"cdk synth of stage {context.get('stage')} failed: {said.removeprefix('error: ')}")
    return outdir
