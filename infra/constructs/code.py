"""Lambda code and runtime, built without Docker.

Why no Docker: CI runners (and this machine) have no Docker engine, and our dependencies are
either in the Powertools layer (powertools, pydantic) or pure Python (pynamodb), so a plain copy
is a correct bundle. The asset directory is content-addressed under build/lambda/<hash>, so
repeated or concurrent synths reuse it and the asset hash only changes when code changes.
`CUTOVER_LAMBDA_BUILD_DIR` puts the bundles elsewhere: the test suite points it at a temporary
directory, so a test run leaves the checkout as it found it.

The migration definition a deployment runs (`-c migration=module:attribute`) may live in the
team's own package, outside this repository: its top-level package (or single-file module) is
found where synth imported it from (`importlib.util.find_spec`) and copied beside cutover/, so
the Lambda's `CUTOVER_MIGRATION` imports from the bundle alone.

The third-party distributions the definition declares (`Migration.requires`) are copied beside
them from this Python's site-packages (infra/constructs/distributions.py: pure Python only, never
what Lambda provides), and a definition that is not the seed is then loaded from the finished
bundle in a sandbox (infra/constructs/bundle_check.py): an import the bundle cannot satisfy fails
synth with one line naming the module and the fix, not the cold start.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
import time
from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from cutover.errors import ConfigError
from cutover.migration import Migration
from infra.constructs.bundle_check import check_definition
from infra.constructs.distributions import Bundled, resolve

ROOT = Path(__file__).resolve().parents[2]
# `migrations`: the shipped definitions (the seed is every function's default); a user's own
# definition package is added beside them (`module_roots`).
PACKAGES = ("cutover", "replicator", "backfill", "reconciler", "controlplane", "app_handlers", "migrations")
VENDORED = ("pynamodb",)  # pure Python, not in the Powertools layer
RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
POWERTOOLS_PARAMETER = "/aws/service/powertools/python/arm64/python3.12/{version}"  # published by Powertools
BUILD_DIR_VARIABLE = "CUTOVER_LAMBDA_BUILD_DIR"  # default: build/lambda in the checkout


def module_roots(module: str) -> list[tuple[Path, Path]]:
    """(source, path inside the bundle) for the top-level package of `module`, as this Python
    imports it: a package directory (each portion of a namespace package) or a single .py file.
    Empty when it is one of ours (already shipped from this checkout).

    Raises:
        ConfigError: it cannot be found, is not plain Python, or is a different package with the
            name of one of ours (the bundle can hold only one of them).
    """
    top = module.split(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError) as exc:
        raise ConfigError(
            f"migration module {module!r}: cannot find package {top!r} ({exc}): fix -c migration"
        ) from exc
    if spec is None:
        raise ConfigError(
            f"migration module {module!r}: no package {top!r} on this Python's path: run synth where it imports"
        )
    if spec.submodule_search_locations:
        locations = [Path(p).resolve() for p in spec.submodule_search_locations]
    elif spec.origin and spec.origin.endswith(".py"):
        locations = [Path(spec.origin).resolve()]
    else:
        raise ConfigError(
            f"migration module {module!r}: {top!r} is not a Python package or .py module ({spec.origin}): "
            "a Lambda bundle can only ship plain Python"
        )
    if top in PACKAGES or top in VENDORED:
        if locations == [(ROOT / top).resolve()] or top in VENDORED:
            return []
        raise ConfigError(
            f"migration module {module!r}: its package {top!r} ({locations[0]}) has the name of one of "
            f"cutover's own: rename your package"
        )
    return [(location, Path(top) if location.is_dir() else Path(f"{top}.py")) for location in locations]


def _sources(modules: tuple[str, ...] = (), requires: tuple[Bundled, ...] = ()) -> list[tuple[Path, Path]]:
    """(source file, path inside the bundle) for every file we ship, sorted for determinism.

    Raises:
        ConfigError: a required distribution would put a top-level name where cutover's packages
            or the definition's package already are (one of them would silently shadow the other).
    """
    roots = [(ROOT / p, Path(p)) for p in PACKAGES]
    for name in VENDORED:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(f"{name} is not installed in this Python: run `make venv`")
        roots.append((Path(next(iter(spec.submodule_search_locations))), Path(name)))
    for module in modules:
        roots += module_roots(module)
    files: list[tuple[Path, Path]] = []
    for src, dest in roots:
        if src.is_file():
            files.append((src, dest))
            continue
        if not src.is_dir():
            continue  # a package another helper has not created yet
        for path in sorted(src.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files.append((path, dest / path.relative_to(src)))
    taken = {dest.parts[0].removesuffix(".py") for _, dest in files}
    for dist in requires:
        clash = sorted({top.removesuffix(".py") for top in dist.top_level} & taken)
        if clash:
            raise ConfigError(
                f"requires {dist.name!r}: it ships a top-level {clash[0]!r}, as cutover or your definition does: "
                "rename your package or drop the distribution"
            )
        files += [(src, Path(dest)) for src, dest in dist.files]
    seen: set[Path] = set()
    unique = []
    for src, dest in files:  # a namespace package's portions: the first on the path wins, as in Python
        if dest not in seen:
            seen.add(dest)
            unique.append((src, dest))
    return unique


def build_lambda_bundle(
    build_dir: Path | None = None, modules: tuple[str, ...] = (), requires: tuple[Bundled, ...] = ()
) -> Path:
    """Copy our packages, vendored deps, the migration `modules`' packages and the distributions
    it `requires` into build/lambda/<content hash>; return that dir."""
    files = _sources(modules, requires)
    digest = hashlib.sha256()
    for src, dest in files:
        digest.update(str(dest).encode() + b"\0" + src.read_bytes() + b"\0")
    base = build_dir or ROOT / "build" / "lambda"
    target = base / digest.hexdigest()[:16]
    if target.is_dir():
        return target
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=base, prefix=".tmp-"))
    for src, dest in files:
        (staging / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, staging / dest)
    try:
        os.rename(staging, target)
    except OSError:  # another synth built the same content first
        shutil.rmtree(staging, ignore_errors=True)
    _prune(base, keep=target)
    return target


def _prune(base: Path, keep: Path, max_age_seconds: float = 3600) -> None:
    """Drop bundles of older code (an hour is far longer than any synth that might use one)."""
    now = time.time()
    for old in base.iterdir():
        if old != keep and old.is_dir() and now - old.stat().st_mtime > max_age_seconds:
            shutil.rmtree(old, ignore_errors=True)


_CHECKED: set[tuple[Path, str]] = set()  # a bundle is content-addressed: one proof per process suffices


def definition_bundle(migration: Migration, spec: str | None, build_dir: Path | None = None) -> Path:
    """The bundle for `migration` (loaded from `spec`; None: the seed, the functions' default),
    proven to load from the bundle alone unless it is the seed, which ships with cutover and is
    covered by tests/infrastructure/test_lambda_bundle.py.

    Raises:
        ConfigError: the definition's package or a required distribution cannot be bundled, or the
            definition does not load from the bundle (one line each, naming the fix).
    """
    module = None if spec is None else spec.partition(":")[0]
    modules = () if module is None else (module,)
    bundle = build_lambda_bundle(build_dir, modules, tuple(resolve(migration.requires, migration=migration.name)))
    if spec is not None and module is not None and (bundle, spec) not in _CHECKED:
        check_definition(bundle, spec, (module.split(".")[0],))
        _CHECKED.add((bundle, spec))
    return bundle


def lambda_code(migration: Migration, spec: str | None) -> lambda_.Code:
    """The definition's bundle as a CDK asset, built under $CUTOVER_LAMBDA_BUILD_DIR if set, else
    build/lambda."""
    override = os.environ.get(BUILD_DIR_VARIABLE)
    return lambda_.Code.from_asset(str(definition_bundle(migration, spec, Path(override) if override else None)))


def powertools_version() -> str:
    """The aws-lambda-powertools version installed here: the one pinned in pyproject.toml, the one
    every test ran against. The deployed layer is resolved from it, never guessed."""
    return importlib.metadata.version("aws-lambda-powertools")


def powertools_layer(scope: Construct) -> lambda_.ILayerVersion:
    """The public Powertools v3 layer (python3.12/arm64, includes pydantic) for EXACTLY the tested
    version, in the stack's own region.

    The ARN comes from the public SSM parameter Powertools publishes per version
    (`/aws/service/powertools/python/arm64/python3.12/<version>`), resolved by CloudFormation at
    deploy time: synth stays offline, and a version with no published layer fails the deploy
    (ParameterNotFound) instead of shipping a different Powertools than the tests ran.
    """
    arn = ssm.StringParameter.value_for_string_parameter(
        scope, POWERTOOLS_PARAMETER.format(version=powertools_version())
    )
    return lambda_.LayerVersion.from_layer_version_arn(scope, "PowertoolsLayer", arn)
