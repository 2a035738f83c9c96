"""The Lambda bundle (built without Docker) holds every handler the stacks point at, and the
handlers import with only what Lambda provides: the bundle, the Powertools layer (with pydantic)
and the runtime's boto3. A CLI-only dependency leaking into a handler fails here, not at 3 a.m."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from infra.constructs.backfill import HANDLER as SEGMENT
from infra.constructs.code import build_lambda_bundle
from infra.constructs.replicator import HANDLER as REPLICATOR
from infra.stacks.api import HANDLER as API

pytestmark = pytest.mark.infra  # needs aws_cdk (jsii), though it synthesizes nothing

NOT_IN_LAMBDA = ("click", "rich", "moto", "hypothesis", "aws_cdk", "cdk_nag", "cfnlint", "psutil", "pytest")


@pytest.mark.parametrize("handler", [REPLICATOR, SEGMENT, API])
def test_handler_imports_from_the_bundle_alone(handler, tmp_path):
    # Given the bundle directory CDK ships
    bundle = build_lambda_bundle(tmp_path)
    module, function = handler.rsplit(".", 1)
    # When the handler module is imported from it with CLI/test-only packages blocked
    script = textwrap.dedent(f"""
        import importlib.abc, sys
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {NOT_IN_LAMBDA!r}:
                    raise ImportError(f"{{name}} is not available in Lambda")
        sys.meta_path.insert(0, Block())
        sys.path.insert(0, {str(bundle)!r})
        import {module} as m
        assert m.__file__.startswith({str(bundle)!r}), m.__file__
        assert callable(getattr(m, {function!r}))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    # Then it imports and exposes the entry point
    assert result.returncode == 0, result.stderr[-2000:]


def test_bundle_vendors_pynamodb_and_skips_caches(tmp_path):
    bundle = build_lambda_bundle(tmp_path)
    assert (bundle / "pynamodb" / "models.py").is_file()
    assert not list(bundle.rglob("__pycache__"))
    assert build_lambda_bundle(tmp_path) == bundle  # content-addressed: same code, same directory


def test_bundle_ships_no_operator_tools(tmp_path):
    # Given the bundle CDK ships
    bundle = build_lambda_bundle(tmp_path)
    # Then the CLI, the demo and the local moto launcher are not in it
    assert not (bundle / "cutover_cli").exists()
    assert {p.name for p in bundle.iterdir()} == {
        "cutover",
        "replicator",
        "backfill",
        "reconciler",
        "controlplane",
        "app_handlers",
        "migrations",
        "pynamodb",
    }


def test_operator_tools_are_an_optional_extra_not_a_runtime_dependency():
    # Given the package metadata users install from
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]
    runtime = {d.split("[")[0].split("=")[0].lower() for d in project["dependencies"]}
    # Then click, rich and moto come only with the `cli` / `local` extras
    assert not runtime & {"click", "rich", "moto"}
    extras = project["optional-dependencies"]
    assert any(d.startswith("click") for d in extras["cli"]) and any(d.startswith("moto") for d in extras["local"])
