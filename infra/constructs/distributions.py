"""The third-party distributions a migration definition declares (`Migration.requires`), copied
into the Lambda bundle from the Python that runs synth.

Why from the installed environment and not pip: synth stays offline and deterministic, and the
bundle holds exactly the versions `cutover check` and the team's tests ran against. What it means:
only pure Python can be copied (synth runs on this machine's Python and CPU, Lambda on python3.12
arm64), so a distribution with compiled extensions not built for Lambda is refused at synth, with
the fix, instead of failing with ImportError at cold start. What a distribution requires (its
`Requires-Dist`, markers evaluated for Lambda's platform) is copied too, except what Lambda
already provides: boto3 and its dependencies (the runtime), Powertools and pydantic (the layer).
A distribution cutover's own bundle vendors (pynamodb) is already there.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import re
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement

from cutover.errors import ConfigError

# What Lambda puts on the path beside the bundle: never copied (a copy would shadow it). The
# runtime's boto3 and its dependencies; the Powertools layer's own package and pydantic's family
# (tests/infrastructure/test_definition_requires.py pins this against the installed metadata).
PROVIDED: dict[str, str] = {
    **dict.fromkeys(
        ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"), "the Lambda runtime"
    ),
    **dict.fromkeys(
        (
            "aws-lambda-powertools",
            "pydantic",
            "pydantic-core",
            "annotated-types",
            "typing-extensions",
            "typing-inspection",
        ),
        "the Powertools layer",
    ),  # fmt: skip
}
ALREADY_BUNDLED = frozenset({"pynamodb"})  # infra/constructs/code.py VENDORED
# Lambda's python3.12 on arm64, for `Requires-Dist` markers: a dependency only some platforms need
# is copied when Lambda's platform needs it, whatever machine runs synth.
LAMBDA_MARKERS: dict[str, str] = {
    **{name: str(value) for name, value in default_environment().items()},
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "implementation_version": "3.12.0",
    "os_name": "posix",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
}
LAMBDA_EXTENSION = ".cpython-312-aarch64-linux-gnu.so"  # the only extension suffix python3.12/arm64 loads
_EXTENSIONS = (".so", ".pyd", ".dylib")
_LOCAL_ONLY = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})  # install-time records
FIX_COMPILED = (
    "use a pure-Python release of it, or ship it in a Lambda layer built for python3.12 arm64 and leave it "
    "out of requires"
)


def normalize(name: str) -> str:
    """PEP 503: `Typing_Extensions` and `typing-extensions` are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Bundled:
    """One distribution to copy: its files as (installed path, path inside the bundle)."""

    name: str
    version: str
    files: tuple[tuple[Path, PurePosixPath], ...]

    @property
    def top_level(self) -> frozenset[str]:
        """The top-level names it puts in the bundle (packages, modules, its dist-info)."""
        return frozenset(dest.parts[0] for _, dest in self.files)


def resolve(requires: tuple[str, ...], *, migration: str) -> list[Bundled]:
    """The distributions to copy for `requires` and everything they require, in a stable order.

    Raises:
        ConfigError: one line naming the distribution (and what required it) and the fix, when it
            is not installed, is provided by Lambda and was named directly, is compiled for
            another platform, is an editable install, or its installed version breaks a
            requirement.
    """
    found: dict[str, Bundled] = {}
    queue: deque[tuple[str, frozenset[str], str | None]] = deque((name, frozenset(), None) for name in requires)
    visited: set[tuple[str, frozenset[str]]] = set()
    while queue:
        name, extras, required_by = queue.popleft()
        key = normalize(name)
        where = f"migration {migration!r}: requires {name!r}" + (f" (needed by {required_by})" if required_by else "")
        if key in PROVIDED or key in ALREADY_BUNDLED:
            if required_by is None:
                source = PROVIDED.get(key, "cutover's own bundle")
                raise ConfigError(f"{where}: Lambda already has it from {source}: remove it from requires")
            continue
        if (key, extras) in visited:
            continue
        visited.add((key, extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise ConfigError(
                f"{where}: not installed in this Python ({sys.executable}): pip install it where you run synth"
            ) from None
        if key not in found:
            found[key] = _bundled(dist, where)
        for requirement in _requirements(dist, extras, where):
            queue.append((requirement.name, frozenset(requirement.extras), f"{dist.metadata['Name']}"))
    return [found[k] for k in sorted(found)]


def _requirements(dist: metadata.Distribution, extras: frozenset[str], where: str) -> list[Requirement]:
    """The requirements that apply on Lambda for `dist` with `extras`, checked against what is installed."""
    out = []
    for text in dist.requires or ():
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            raise ConfigError(f"{where}: cannot read its requirement {text!r} ({exc}): reinstall it") from None
        marker = requirement.marker
        if marker is not None and not any(marker.evaluate({**LAMBDA_MARKERS, "extra": e}) for e in {"", *extras}):
            continue
        if normalize(requirement.name) not in PROVIDED:
            try:
                installed = metadata.version(requirement.name)
            except metadata.PackageNotFoundError:
                installed = None
            if installed is not None and not requirement.specifier.contains(installed, prereleases=True):
                raise ConfigError(
                    f"{where}: it needs {requirement}, but {requirement.name} {installed} is installed: "
                    "fix the environment (pip check)"
                )
        out.append(requirement)
    return out


def _bundled(dist: metadata.Distribution, where: str) -> Bundled:
    """Its installed files, after refusing what Lambda could not import."""
    name, version = dist.metadata["Name"], dist.version
    where = f"{where}: {name} {version}"
    direct = dist.read_text("direct_url.json")
    if direct and json.loads(direct).get("dir_info", {}).get("editable"):
        raise ConfigError(f"{where} is an editable install (its code is not in site-packages): reinstall it without -e")
    if dist.files is None:
        raise ConfigError(f"{where} has no file list (RECORD): reinstall it with pip")
    files: list[tuple[Path, PurePosixPath]] = []
    for record in dist.files:
        dest = PurePosixPath(record.as_posix())
        if dest.parts[0] == ".." or "__pycache__" in dest.parts or dest.suffix == ".pyc":
            continue  # console scripts outside site-packages; caches
        if dest.parent.name.endswith(".dist-info") and dest.name in _LOCAL_ONLY:
            continue
        if dest.name.startswith("__editable__"):
            raise ConfigError(f"{where} is installed through a path hook ({dest}): reinstall it without -e")
        if dest.suffix == ".pth":
            continue  # site-packages start-up hooks; /var/task is no site directory, Lambda never reads them
        if dest.suffix in _EXTENSIONS and not dest.name.endswith(LAMBDA_EXTENSION):
            raise ConfigError(
                f"{where} has compiled code ({dest.name}), not for Lambda's python3.12 arm64: {FIX_COMPILED}"
            )
        source = Path(str(dist.locate_file(record)))
        if not source.is_file():
            raise ConfigError(f"{where}: installed file {dest} is missing: reinstall it")
        files.append((source, dest))
    if not any(dest.suffix == ".py" for _, dest in files):
        raise ConfigError(f"{where} has no Python files to bundle: is it the distribution your definition imports?")
    return Bundled(name, version, tuple(sorted(files, key=lambda f: str(f[1]))))
