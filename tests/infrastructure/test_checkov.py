"""checkov (its own venv: `make checkov`, a dependency of `make test`) finds nothing unreviewed in
any stage's synthesized templates, environment-agnostic or synthesized the runbook's way."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from infra.policy_skips import CHECKOV_SKIPS, CHECKOV_VERSION

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"
VARIANTS = ("dev", "staging", "prod", "dev@env", "staging@env", "prod@env")


def _checkov(*dirs: Path) -> list[dict]:
    if not CHECKOV.exists():
        pytest.fail("checkov is not installed: run `make checkov` (make test does it)")
    args = [str(CHECKOV), "--framework", "cloudformation", "--quiet", "--compact", "-o", "json",
            "--skip-check", ",".join(CHECKOV_SKIPS)]
    for directory in dirs:
        args += ["-d", str(directory)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert result.returncode in (0, 1), result.stderr[-3000:]  # 1 = findings, reported below
    reports = _documents(result.stdout)
    assert reports and all(r["summary"]["resource_count"] > 0 for r in reports), result.stdout[-2000:]
    return [{"check": f["check_id"], "resource": f["resource"], "file": f["file_path"]}
            for r in reports for f in r.get("results", {}).get("failed_checks", [])]


def _documents(text: str) -> list[dict]:
    """checkov -o json prints one JSON document per scanned directory, back to back."""
    decoder, docs, index = json.JSONDecoder(), [], 0
    while index < len(text.rstrip()):
        while text[index].isspace():
            index += 1
        doc, index = decoder.raw_decode(text, index)
        docs.extend(doc if isinstance(doc, list) else [doc])
    return docs


def test_every_skip_is_reviewed_with_a_reason():
    assert CHECKOV_SKIPS
    for check, reason in CHECKOV_SKIPS.items():
        assert check.startswith("CKV_") and len(reason.strip()) >= 60, check


def test_checkov_is_the_pinned_version():
    if not CHECKOV.exists():
        pytest.fail("checkov is not installed: run `make checkov` (make test does it)")
    version = subprocess.run([str(CHECKOV), "--version"], capture_output=True, text=True, timeout=120).stdout.strip()
    assert version == CHECKOV_VERSION
    assert f"CHECKOV_VERSION := {CHECKOV_VERSION}" in (ROOT / "Makefile").read_text()


def test_checkov_finds_nothing_unreviewed_in_any_stage(synth_stage):
    # Given every stage synthesized both ways (one checkov run over all of them: it is slow to start)
    outdirs = [synth_stage(variant).outdir for variant in VARIANTS]
    # Then checkov reports no failed check beyond the reviewed skips
    assert _checkov(*outdirs) == []


def test_checkov_would_catch_a_regression(tmp_path):
    # Given a template with an unencrypted, unlogged bucket (a policy we do follow)
    template = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}}}}
    (tmp_path / "bad.template.json").write_text(json.dumps(template))
    # Then checkov, with our skips, reports it
    assert any(f["resource"] == "AWS::S3::Bucket.Bucket" for f in _checkov(tmp_path))
