"""Cross-stack checks per stage: least-privilege IAM, tags, cdk-nag, cfn-lint, no plaintext secrets."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.infra

TAGS = ("Service", "Stage", "CostCenter", "DataClassification")
# W3005: CDK adds DependsOn on a function's role although a GetAtt already implies it (generated, harmless).
CFN_LINT_IGNORED = ("W3005",)


def _statements(synth):
    for role, template in synth.templates.items():
        for lid, res in template["Resources"].items():
            if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::Role"):
                docs = [res["Properties"].get("PolicyDocument")] + [
                    p["PolicyDocument"] for p in res["Properties"].get("Policies", [])
                ]
                for doc in filter(None, docs):
                    for statement in doc["Statement"]:
                        yield role, lid, statement


def _as_list(value):
    return value if isinstance(value, list) else [value]


def test_dynamodb_data_access_is_scoped_to_exact_arns(synth):
    checked = 0
    for role, lid, statement in _statements(synth):
        actions = _as_list(statement.get("Action", []))
        if not any(a.startswith("dynamodb:") for a in actions):
            continue
        checked += 1
        resources = [json.dumps(r) for r in _as_list(statement["Resource"])]
        if actions == ["dynamodb:ListStreams"]:
            continue  # no resource-level permissions exist for it; returns stream ARNs, never data
        assert '"*"' not in resources, f"{role}/{lid}: {actions} on '*'"
        assert not any(re.search(r"/\*", r) or '*"' in r for r in resources), f"{role}/{lid}: wildcard in {resources}"
        assert not any(a in ("dynamodb:*", "dynamodb:Get*", "dynamodb:Put*") for a in actions)
    assert checked >= 4  # replicator, segment, api, legacy check all have statements


def test_every_taggable_resource_carries_the_four_tags(synth):
    expected = {
        "Service": "my-service",
        "Stage": synth.stage,
        "CostCenter": synth.ctx("costCenter"),
        "DataClassification": synth.ctx("dataClassification") or "confidential",
    }
    tagged = 0
    for role, template in synth.templates.items():
        for lid, res in template["Resources"].items():
            tags = res.get("Properties", {}).get("Tags")
            if isinstance(tags, list):
                values = {t["Key"]: t["Value"] for t in tags}
                assert {k: values.get(k) for k in TAGS} == expected, f"{role}/{lid} tags {values}"
                tagged += 1
    assert tagged >= 15
    # the tables, functions and queues are among them
    for cfn_type in ("AWS::DynamoDB::Table", "AWS::Lambda::Function", "AWS::SQS::Queue"):
        assert all("Tags" in r["Properties"] for _, r in synth.resources(cfn_type))


def test_cdk_nag_has_no_unacknowledged_findings(synth):
    # Given the app synthesized with cdk-nag AwsSolutions as a validation plugin (synth raises on a finding)
    report = synth.outdir / "validation-report.json"
    # Then no violation was reported...
    assert not report.exists() or "ERROR" not in report.read_text()
    # ...and every acknowledgement (written to template Metadata for the audit trail) has a real reason
    acks = [
        rule
        for template in synth.templates.values()
        for res in template["Resources"].values()
        for rule in res.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert acks, "expected the acknowledgements to be recorded in the templates"
    for rule in acks:
        assert len(rule.get("reason", "").strip()) >= 30, rule  # a sentence, not a shrug


def test_cfn_lint_passes_on_every_template(synth):
    from cfnlint.api import ManualArgs, lint_file

    for template in sorted(synth.outdir.glob("*.template.json")):
        matches = lint_file(
            template, config=ManualArgs(regions=["us-east-1", "eu-west-1"], ignore_checks=list(CFN_LINT_IGNORED))
        )
        assert [str(m) for m in matches] == [], template.name


def test_no_plaintext_secret_reaches_a_template(synth):
    for role, template in synth.templates.items():
        text = json.dumps(template)
        # no literal secret value, and no secret passed as a resolved dynamic reference
        assert '"SecretString"' not in text, role
        assert "{{resolve:secretsmanager" not in text, role
        for _, fn in synth.resources("AWS::Lambda::Function", role):
            for name, value in fn["Properties"].get("Environment", {}).get("Variables", {}).items():
                if re.search(r"SECRET|PASSWORD|TOKEN|KEY", name):
                    # only ever an ARN (a CloudFormation expression building arn:...:secret:...)
                    assert name.endswith("_ARN") and ":secret:" in json.dumps(value), f"{role}: {name}"
        assert not re.search(r"(?i)(password|api[_-]?key|secret)\"\s*:\s*\"[A-Za-z0-9+/=]{16,}\"", text), role


@pytest.mark.parametrize("stage", ["dev", "staging", "prod"])
def test_every_stage_synthesizes_as_the_runbook_does_with_account_and_region(stage, synth_stage):
    # Given the stage synthesized with -c account=... -c region=... (runbooks/deploy.md step 3)
    synth = synth_stage(f"{stage}@env")
    # Then synthesis succeeded (no plugin reported anything) and the stacks are bound to that environment
    report = synth.outdir / "validation-report.json"
    assert not report.exists() or json.loads(report.read_text())["pluginReports"] == []
    for stack in synth.stacks.values():
        assert (stack.account, stack.region) == (synth.context["account"], synth.context["region"])
