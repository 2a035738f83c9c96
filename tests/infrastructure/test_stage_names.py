"""Any stage name synthesizes; its safety follows its class, and a name nobody classified gets production's.

`qa` with `-c stageClass=development` is a disposable sandbox; `live` with no class is treated as
the production stage it may well be: every stateful resource retained, every table
deletion-protected, the stateful stack termination-protected.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from infra.retention import PROTECTION_RULE, RETAIN_RULE, STATEFUL_TYPES, problems_in
from tests.infrastructure.conftest import legacy_context, runbook_context

_SYNTHS: dict[str, tuple[dict[str, Any], dict[str, Any], float]] = {}


def _context(stage: str, **extra: str) -> dict[str, Any]:
    """The runbook's prod context (account, region, legacy tables), under another stage name."""
    base = runbook_context("prod")
    account = base["account"]
    return {
        **base,
        "stage": stage,
        **legacy_context(stage, ("users", "orders"), account),
        **extra,
    }


@pytest.fixture(scope="module")
def synth_named(tmp_path_factory):
    """Callable (variant) -> (stacks, templates by role), synthesized once per module."""
    variants = {"qa/development": _context("qa", stageClass="development"), "live": _context("live")}

    def get(variant: str) -> tuple[dict[str, Any], dict[str, Any]]:
        if variant not in _SYNTHS:
            from infra.app import build_app

            started = time.monotonic()
            app, stacks = build_app(variants[variant], outdir=str(tmp_path_factory.mktemp("cdk-named")))
            assembly = app.synth()  # cdk-nag, and the retention check when the class retains
            templates = {role: assembly.get_stack_by_name(s.stack_name).template for role, s in stacks.items()}
            _SYNTHS[variant] = (stacks, templates, time.monotonic() - started)
        stacks, templates, _ = _SYNTHS[variant]
        return stacks, templates

    return get


def _resources(templates: dict[str, Any], cfn_type: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (lid, res)
        for template in templates.values()
        for lid, res in template.get("Resources", {}).items()
        if res["Type"] == cfn_type
    ]


def _function_env(templates: dict[str, Any]) -> list[dict[str, str]]:
    """The environment of each of cutover's functions (not CDK's custom-resource helpers)."""
    envs = [
        f["Properties"].get("Environment", {}).get("Variables", {})
        for _, f in _resources(templates, "AWS::Lambda::Function")
    ]
    found = [env for env in envs if "STAGE" in env]
    assert len(found) >= 5  # replicator, backfill segment, reconcile segment and run, api
    return found


def test_a_stage_nobody_classified_gets_production_safety(synth_named):
    # Given `-c stage=live` and no stageClass
    stacks, templates = synth_named("live")
    # Then every table is retained through deletion and replacement, deletion-protected, with PITR
    tables = _resources(templates, "AWS::DynamoDB::Table")
    assert {t["Properties"]["TableName"] for _, t in tables} >= {
        "my-service-live-users-v3",
        "my-service-live-cutover-api",
    }
    for _, table in tables:
        assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
        assert table["Properties"]["DeletionProtectionEnabled"] is True
        assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    # And every other stateful resource is retained (the retention check's reading of the templates)
    for template in templates.values():
        assert problems_in(template) == {RETAIN_RULE: [], PROTECTION_RULE: []}
    retained = [r for t in STATEFUL_TYPES for _, r in _resources(templates, t)]
    assert retained and all(r["DeletionPolicy"] in ("Retain", "RetainExceptOnCreate") for r in retained)
    assert all(r["UpdateReplacePolicy"] == "Retain" for r in retained)
    # And the stateful stack is termination-protected, backups kept 30 days, as prod
    assert stacks["stateful"].termination_protection is True
    Template.from_json(templates["stateful"]).has_resource_properties(
        "AWS::Backup::BackupPlan",
        {"BackupPlan": {"BackupPlanRule": [Match.object_like({"Lifecycle": {"DeleteAfterDays": 30}})]}},
    )
    # And the functions know their class
    assert all(
        (v["STAGE"], v["STAGE_CLASS"], v["LOG_LEVEL"]) == ("live", "production", "INFO")
        for v in _function_env(templates)
    )


def test_a_stage_classed_development_is_a_disposable_sandbox_named_after_it(synth_named):
    # Given `-c stage=qa -c stageClass=development`
    stacks, templates = synth_named("qa/development")
    # Then its resources carry its name
    assert {s.stack_name for s in stacks.values()} == {
        f"my-service-qa-{role}" for role in ("stateful", "replication", "api")
    }
    tables = _resources(templates, "AWS::DynamoDB::Table")
    assert "my-service-qa-users-v3" in {t["Properties"]["TableName"] for _, t in tables}
    (stage,) = _resources(templates, "AWS::ApiGateway::Stage")
    assert stage[1]["Properties"]["StageName"] == "qa"
    # And it is disposable, as dev: deleted with the stack, no deletion or termination protection
    for _, table in tables:
        assert table["DeletionPolicy"] == "Delete"
        assert table["Properties"]["DeletionProtectionEnabled"] is False
    assert stacks["stateful"].termination_protection is False
    assert all(
        (v["STAGE"], v["STAGE_CLASS"], v["LOG_LEVEL"]) == ("qa", "development", "DEBUG")
        for v in _function_env(templates)
    )
