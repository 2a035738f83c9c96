"""A definition's third-party imports reach the Lambda asset, or synth refuses it (issue 18).

`Migration.requires` names the distributions a definition imports; synth copies them and what they
require from this Python (pure Python only, never what Lambda provides), then loads the
definition from the finished bundle in a sandbox: only the bundle, the standard library and what
Lambda puts beside it (the runtime's boto3, the layer's Powertools and pydantic). `rsa` (pure
Python, requiring the pure `pyasn1`) is installed in the virtualenv and absent from cutover's own
bundle, so it stands for the hashing library a team's transform would use."""

from __future__ import annotations

import importlib.metadata as metadata
import json
import textwrap
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from cutover.errors import ConfigError
from cutover.migration_loader import clear_cache, load_migration
from infra.constructs.bundle_check import run_in_sandbox
from infra.constructs.code import build_lambda_bundle, definition_bundle
from infra.constructs.distributions import LAMBDA_MARKERS, PROVIDED, normalize
from tests.infrastructure.conftest import legacy_context

pytestmark = pytest.mark.infra

DEFINITIONS = Path(__file__).parent / "definitions"  # acme_members: requires rsa
SPEC = "acme_members:MIGRATION"
MEMBER = {"memberId": "m1", "email": "ada@example.com"}
LAMBDA_HAS = ("boto3", "botocore", "aws_lambda_powertools", "pydantic", "pydantic_core", "typing_extensions")


@pytest.fixture
def acme(monkeypatch):
    """The test-only definition under tests/infrastructure/definitions, importable as `acme_members`."""
    monkeypatch.syspath_prepend(str(DEFINITIONS))
    clear_cache()
    yield load_migration(SPEC)
    clear_cache()


RUN_TRANSFORM = """
from cutover.migration_loader import load_migration
import rsa, pyasn1
migration = load_migration(SPEC)
print(json.dumps({"out": migration.transform("members", ITEM), "from": [rsa.__file__, pyasn1.__file__]}))
"""


def test_the_staged_asset_holds_the_required_libraries_and_runs_the_transform_alone(acme, runbook_app):
    # Given the app built for a definition that requires rsa (which requires pyasn1): its stacks
    # constructed, so every function's asset is staged (what `cdk synth` uploads)
    app, _ = runbook_app("staging", migration=SPEC, **legacy_context("staging", ("members",), "222222222222"))
    outdir = Path(app.outdir)
    assets = sorted({p.parent.parent for p in outdir.glob("asset.*/cutover/__init__.py")})
    assert assets
    for asset in assets:
        # Then each asset holds the definition's package, rsa and pyasn1 (with their metadata) ...
        names = {p.name for p in asset.iterdir()}
        assert {"acme_members", "rsa", "pyasn1"} <= names, names
        assert any(n.startswith("rsa-") and n.endswith(".dist-info") for n in names)
        # ... and nothing Lambda provides beside it
        assert not names & set(LAMBDA_HAS)
    # And with only the asset and Lambda's own packages on the path, the transform runs
    result = run_in_sandbox(assets[0], f"SPEC, ITEM = {SPEC!r}, {MEMBER!r}\n" + RUN_TRANSFORM)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["out"] == acme.transform("members", MEMBER)
    assert all(path.startswith(str(assets[0])) for path in report["from"]), report["from"]


def test_synth_refuses_a_definition_whose_import_the_bundle_lacks(runbook_app, tmp_path, monkeypatch):
    # Given the same definition without `requires`, as a team package `acme_bare`
    (tmp_path / "src" / "acme_bare").mkdir(parents=True)
    source = (DEFINITIONS / "acme_members" / "__init__.py").read_text()
    assert '    requires=("rsa",),\n' in source
    (tmp_path / "src" / "acme_bare" / "__init__.py").write_text(source.replace('    requires=("rsa",),\n', ""))
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    clear_cache()
    # Then synth fails while the functions are built, naming the module and the fix, in one line
    with pytest.raises(ConfigError) as caught:
        runbook_app(
            "staging", migration="acme_bare:MIGRATION", **legacy_context("staging", ("members",), "222222222222")
        )
    clear_cache()
    assert str(caught.value) == (
        "migration 'acme_bare:MIGRATION': importing it from the Lambda bundle alone: module 'rsa' is not "
        "in the Lambda bundle: add its distribution 'rsa' to Migration(requires=...)"
    )


def test_the_sandbox_has_what_lambda_has_and_nothing_else(tmp_path):
    # Given cutover's own bundle, in the sandbox synth checks definitions in
    bundle = build_lambda_bundle(tmp_path)
    script = """
import importlib.util
print(json.dumps({n: getattr(importlib.util.find_spec(n), "origin", None) for n in NAMES}))
"""
    absent = ["rsa", "pyasn1", "xmltodict", "hypothesis", "click", "moto", "aws_cdk", "pytest"]
    result = run_in_sandbox(bundle, f"NAMES = {[*LAMBDA_HAS, 'cutover', *absent]!r}\n" + script)
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout)
    # Then Lambda's own packages come from this Python, cutover from the bundle, the rest from nowhere
    assert all(found[n] for n in LAMBDA_HAS), found
    assert found["cutover"].startswith(str(bundle))
    assert [n for n in absent if found[n]] == []


def test_provided_is_exactly_what_boto3_powertools_and_pydantic_require():
    # Given the installed metadata (markers evaluated for Lambda's platform)
    def closure(*names: str) -> set[str]:
        seen: set[str] = set()
        todo = list(names)
        while todo:
            name = normalize(todo.pop())
            if name not in seen:
                seen.add(name)
                for text in metadata.distribution(name).requires or ():
                    requirement = Requirement(text)
                    if requirement.marker is None or requirement.marker.evaluate({**LAMBDA_MARKERS, "extra": ""}):
                        todo.append(requirement.name)
        return seen

    # Then what synth never copies is exactly the runtime's and the layer's closure
    assert set(PROVIDED) == closure("boto3") | closure("aws-lambda-powertools", "pydantic")


# --- what synth refuses, through the bundle every function's code comes from --------------------

TEMPLATE = '''
    """A team's definition (test only)."""
    from cutover.migration import Key, Migration, Source, Target
    {module_level}

    def things(item):
        {in_transform}
        return [{{**item, "pk": "T#" + item["id"], "sk": "A"}}]


    MIGRATION = Migration(
        name="acme",
        target=Target(table="{{service}}-{{stage}}-acme", hash_key=Key("pk"), range_key=Key("sk")),
        sources=(Source(role="things", table="{{service}}-{{stage}}-things", hash_key=Key("id"), transform=things),),
        requires={requires!r},
    )
'''


def _bundle_for(tmp_path, monkeypatch, *, module_level="", in_transform="pass", requires=()) -> Path:
    """definition_bundle (what every CutoverFunction's code is) for a one-file team package."""
    name = f"acme_{tmp_path.name.replace('-', '_').lower()}"[:50]
    (tmp_path / "src" / name).mkdir(parents=True)
    source = TEMPLATE.format(module_level=module_level, in_transform=in_transform, requires=tuple(requires))
    (tmp_path / "src" / name / "__init__.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    clear_cache()
    try:
        migration = load_migration(f"{name}:MIGRATION")
        return definition_bundle(migration, f"{name}:MIGRATION", tmp_path / "build")
    finally:
        clear_cache()


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (
            {"in_transform": "import xmltodict"},
            r"__init__.py:7 imports 'xmltodict': module 'xmltodict' is not in the Lambda bundle: "
            r"add its distribution 'xmltodict' to Migration\(requires=...\)$",
        ),
        (
            {"in_transform": "import asyncore"},
            r"__init__.py:7 imports 'asyncore', which Python 3.12 \(Lambda's runtime\) removed: "
            r"import its replacement$",
        ),
        (
            {"requires": ("markupsafe",)},
            r"requires 'markupsafe': MarkupSafe [\d.]+ has compiled code \(_speedups\.cpython-.*\.so\), not for "
            r"Lambda's python3.12 arm64: use a pure-Python release of it, or ship it in a Lambda layer",
        ),
        (
            {"requires": ("jinja2",)},
            r"requires 'MarkupSafe' \(needed by Jinja2\): MarkupSafe [\d.]+ has compiled code",
        ),
        (
            {"module_level": "import hypothesis"},
            r"importing it from the Lambda bundle alone: hypothesis is for `cutover check` only: import it "
            r"inside the functions of your strategies$",
        ),
        ({"requires": ("boto3",)}, r"requires 'boto3': Lambda already has it from the Lambda runtime: remove it"),
        ({"requires": ("pydantic",)}, r"Lambda already has it from the Powertools layer: remove it from requires$"),
        ({"requires": ("pynamodb",)}, r"Lambda already has it from cutover's own bundle: remove it from requires$"),
        (
            {"requires": ("acme-nowhere-xyz",)},
            r"requires 'acme-nowhere-xyz': not installed in this Python \(.*\): pip install it where you run synth$",
        ),
    ],
    ids=[
        "lazy-import",
        "removed-in-3.12",
        "compiled",
        "compiled-dependency",
        "check-only",
        "runtime",
        "layer",
        "vendored",
        "absent",
    ],
)
def test_synth_refuses_what_lambda_could_not_import(case, expected, tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match=expected) as caught:
        _bundle_for(tmp_path, monkeypatch, **case)
    assert "\n" not in str(caught.value)


def test_optional_imports_are_not_required(tmp_path, monkeypatch):
    # Given imports the author made optional: guarded by ImportError, or for type checkers only
    module_level = "from typing import TYPE_CHECKING\n    if TYPE_CHECKING:\n        import hypothesis"
    guarded = "try:\n            import xmltodict\n        except ImportError:\n            xmltodict = None"
    # Then the definition is bundled without them
    bundle = _bundle_for(tmp_path, monkeypatch, module_level=module_level, in_transform=guarded)
    assert not (bundle / "xmltodict.py").exists()


def test_a_lazy_import_of_a_required_library_is_bundled(tmp_path, monkeypatch):
    bundle = _bundle_for(tmp_path, monkeypatch, in_transform="import xmltodict", requires=("xmltodict",))
    assert (bundle / "xmltodict.py").is_file()


# --- what synth reads of a distribution's metadata, on distributions made for the test ----------


def _distribution(site: Path, name: str, *, files: dict[str, str], requires=(), record=True, editable=False) -> None:
    """An installed distribution `name` 1.0 in `site`: its files, METADATA, and RECORD listing them."""
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    metadata_text = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    (info / "METADATA").write_text(metadata_text)
    listed = [*files, f"{info.name}/METADATA"]
    for path, text in files.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(text)
    if editable:
        (info / "direct_url.json").write_text(json.dumps({"url": "file:///src", "dir_info": {"editable": True}}))
    if record:
        (info / "RECORD").write_text("".join(f"{path},,\n" for path in listed))


@pytest.fixture
def site(tmp_path, monkeypatch) -> Path:
    """A site directory on sys.path, where importlib.metadata finds the test's distributions."""
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    return path


def test_requirements_follow_lambdas_platform_not_synths(site, tmp_path, monkeypatch):
    # Given acme-a requiring acme-b only on Linux arm64 and acme-c only on Windows
    _distribution(site, "acme_a", files={"acme_a/__init__.py": ""}, requires=(
        'acme-b; platform_machine == "aarch64" and sys_platform == "linux"', 'acme-c; sys_platform == "win32"',
    ))  # fmt: skip
    _distribution(site, "acme_b", files={"acme_b/__init__.py": ""})
    # When it is bundled, Then acme-b is (Lambda is Linux arm64, whatever runs synth), acme-c is not
    bundle = _bundle_for(tmp_path, monkeypatch, requires=("acme-a",))
    assert (bundle / "acme_a").is_dir() and (bundle / "acme_b").is_dir() and not (bundle / "acme_c").exists()


@pytest.mark.parametrize(
    ("made", "expected"),
    [
        (
            {"files": {"backfill/__init__.py": ""}},
            r"requires 'acme_x': it ships a top-level 'backfill', as cutover or your definition does: rename",
        ),
        (
            {"files": {"acme_x.py": ""}, "editable": True},
            r"acme_x 1.0 is an editable install .*: reinstall it without -e$",
        ),
        ({"files": {"acme_x.py": ""}, "record": False}, r"acme_x 1.0 has no file list \(RECORD\): reinstall it"),
        (
            {"files": {"acme_x.py": ""}, "requires": ("xmltodict<0.1",)},
            r"requires 'acme_x': it needs xmltodict<0.1, but xmltodict [\d.]+ is installed: fix the environment",
        ),
        ({"files": {"acme_x/data.json": "{}"}}, r"acme_x 1.0 has no Python files to bundle"),
    ],
    ids=["shadows-cutover", "editable", "no-record", "version-conflict", "no-python"],
)
def test_a_distribution_the_bundle_cannot_hold_is_refused_naming_it(made, expected, site, tmp_path, monkeypatch):
    _distribution(site, "acme_x", **made)
    with pytest.raises(ConfigError, match=expected):
        _bundle_for(tmp_path, monkeypatch, requires=("acme_x",))
