"""Synthesize each stage ONCE per session (jsii synthesis is slow) and share the templates.

Every stage is synthesized twice for the seed migration: environment-agnostic (`dev`, what a
fresh clone does) and the way runbooks/deploy.md does it, with `-c account=... -c region=...`
(`dev@env`). The two resolve ARNs differently, so a cdk-nag acknowledgement written for only one
form fails the other. The catalog migration (`-c migration=migrations.catalog:MIGRATION`: two
sources, a composite key, a numeric GSI key, a secret) is synthesized in both forms too, over
three variants (`dev+catalog`, `staging@env+catalog`, `prod+catalog`).

Fixtures: `synth` runs a test on every variant of both migrations (what holds for any
definition), `seed_synth` / `catalog_synth` on one migration's variants (its literal contract).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "staging", "prod")
ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
REGIONS = {"dev": "us-east-1", "staging": "eu-west-1", "prod": "eu-west-1"}  # where each stage's streams are
SEED_VARIANTS = STAGES + tuple(f"{stage}@env" for stage in STAGES)
CATALOG_VARIANTS = ("dev+catalog", "staging@env+catalog", "prod+catalog")
VARIANTS = SEED_VARIANTS + CATALOG_VARIANTS
MIGRATIONS = {"seed": None, "catalog": "migrations.catalog:MIGRATION"}  # None: the default (the seed)
ROLES = {"seed": ("users", "orders"), "catalog": ("products", "reviews")}


def stream_arn(account: str, table: str) -> str:
    return f"arn:aws:dynamodb:eu-west-1:{account}:table/{table}/stream/2025-02-03T04:05:06.789"


def runbook_context(stage: str, migration: str = "seed") -> dict[str, Any]:
    """`stage_context` plus the account and region runbooks/deploy.md passes with -c."""
    return {**stage_context(stage, migration), "account": ACCOUNTS[stage], "region": REGIONS[stage]}


def legacy_context(stage: str, roles: tuple[str, ...], account: str) -> dict[str, Any]:
    """`legacyTables` and `legacyStreamArns` for hand-named legacy tables `legacy-<stage>-<role>`."""
    tables = {role: f"legacy-{stage}-{role}" for role in roles}
    return {
        "legacyTables": tables,
        "legacyStreamArns": {role: stream_arn(account, table) for role, table in tables.items()},
    }


def stage_context(stage: str, migration: str = "seed") -> dict[str, Any]:
    """dev: exactly cdk.json (what a fresh clone synthesizes); staging: VPC on; prod: tuned values.
    Another migration than the seed adds `migration` and its own legacy tables (cdk.json's dev
    defaults name the seed's)."""
    base = json.loads((ROOT / "cdk.json").read_text())["context"]
    account = ACCOUNTS[stage]
    chosen = {} if MIGRATIONS[migration] is None else {"migration": MIGRATIONS[migration]}
    if migration != "seed":
        chosen.update(legacy_context(stage, ROLES[migration], account))
    if stage == "dev":
        return {**base, **chosen}
    extra = {
        "stage": stage,
        "costCenter": f"cc-{stage}",
        **legacy_context(stage, ROLES["seed"], account),
        **chosen,
    }
    if stage == "staging":
        extra["vpc"] = "true"
    if stage == "prod":
        extra.update(
            {
                "parallelizationFactor": "4",
                "alarmEmail": "oncall@example.com",
                "backfillMaxConcurrency": "25",
                "iteratorAgeAlarmSeconds": "120",
                "dataClassification": "restricted",
            }
        )
    return {**base, **extra}


def parse_variant(variant: str) -> tuple[str, bool, str]:
    """`prod@env+catalog` -> ("prod", True, "catalog"); `dev` -> ("dev", False, "seed")."""
    rest, _, migration = variant.partition("+")
    stage, _, env = rest.partition("@")
    return stage, bool(env), migration or "seed"


@dataclass
class Synth:
    """One synthesized stage: templates by role (`stateful`, `replication`, maybe `api` and `network`)."""

    stage: str
    env_bound: bool  # synthesized with account and region (as the runbook does)
    migration: str  # "seed" | "catalog"
    context: dict[str, Any]
    stacks: dict[str, Any]
    templates: dict[str, dict[str, Any]]
    outdir: Path
    seconds: float

    def ctx(self, key: str) -> Any:
        """A context value as the app sees it (dev falls back to cdk.json's devDefaults)."""
        if key in self.context:
            return self.context[key]
        return self.context.get("devDefaults", {}).get(key) if self.stage == "dev" else None

    @property
    def roles(self) -> tuple[str, ...]:
        return ROLES[self.migration]

    def legacy_table(self, role: str) -> str:
        return self.ctx("legacyTables")[role]

    def legacy_stream(self, role: str) -> str:
        return self.ctx("legacyStreamArns")[role]

    def legacy_arn(self, role: str) -> str:
        return self.legacy_stream(role).split("/stream/")[0]

    def resources(self, cfn_type: str, role: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        roles = [role] if role else list(self.templates)
        return [
            (lid, res)
            for r in roles
            for lid, res in self.templates[r].get("Resources", {}).items()
            if res["Type"] == cfn_type
        ]


_CACHE: dict[str, Synth] = {}


@pytest.fixture(scope="session", autouse=True)
def lambda_build_dir(tmp_path_factory) -> Iterator[Path]:
    """Every synth of this session (in process, or the CDK CLI's child, which inherits the
    environment) bundles the Lambda code here rather than into build/ in the checkout."""
    from infra.constructs.code import BUILD_DIR_VARIABLE

    path = tmp_path_factory.mktemp("lambda-build")
    previous = os.environ.get(BUILD_DIR_VARIABLE)
    os.environ[BUILD_DIR_VARIABLE] = str(path)
    yield path
    if previous is None:
        os.environ.pop(BUILD_DIR_VARIABLE, None)
    else:
        os.environ[BUILD_DIR_VARIABLE] = previous


@pytest.fixture(scope="session")
def synth_stage(tmp_path_factory):
    """Callable stage -> Synth, synthesizing each stage at most once per session."""
    import time

    def get(variant: str) -> Synth:
        if variant not in _CACHE:
            from infra.app import build_app

            stage, env, migration = parse_variant(variant)
            started = time.monotonic()
            outdir = tmp_path_factory.mktemp(f"cdk-{stage}-{'env' if env else 'agnostic'}-{migration}")
            context = runbook_context(stage, migration) if env else stage_context(stage, migration)
            app, stacks = build_app(context, outdir=str(outdir))
            assembly = app.synth()  # cdk-nag and the retention check run here as validation plugins
            templates = {role: assembly.get_stack_by_name(stack.stack_name).template for role, stack in stacks.items()}
            _CACHE[variant] = Synth(
                stage, env, migration, context, stacks, templates, outdir, time.monotonic() - started
            )
        return _CACHE[variant]

    return get


@pytest.fixture(params=VARIANTS)
def synth(request, synth_stage) -> Synth:
    """Every variant of both migrations: what must hold whatever the definition."""
    return synth_stage(request.param)


@pytest.fixture(params=SEED_VARIANTS)
def seed_synth(request, synth_stage) -> Synth:
    """The seed migration's variants: its literal contract (docs/CONTRACT.md) and example API."""
    return synth_stage(request.param)


@pytest.fixture(params=CATALOG_VARIANTS)
def catalog_synth(request, synth_stage) -> Synth:
    """The catalog migration's variants (migrations/catalog.py)."""
    return synth_stage(request.param)


@pytest.fixture
def runbook_app(tmp_path):
    """Callable (stage, **extra context) -> (app, stacks) built the runbook's way, NOT yet synthesized."""

    def build(stage: str, example: str = "seed", **extra: Any):
        """`example`: a shipped migration ("seed" | "catalog"); `extra` may still set `migration`."""
        from infra.app import build_app

        return build_app({**runbook_context(stage, example), **extra}, outdir=str(tmp_path / f"app-{stage}"))

    return build


@pytest.fixture
def synth_with(tmp_path):
    """Callable (stage, **extra context) -> templates by role, synthesized the runbook's way (not cached)."""

    def build(stage: str, example: str = "seed", **extra: Any) -> dict[str, dict[str, Any]]:
        from infra.app import build_app

        app, stacks = build_app({**runbook_context(stage, example), **extra}, outdir=str(tmp_path / stage))
        assembly = app.synth()
        return {role: assembly.get_stack_by_name(stack.stack_name).template for role, stack in stacks.items()}

    return build
