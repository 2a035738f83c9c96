"""Prove at synth that a definition imports from the Lambda bundle alone, as a cold start will.

Why a subprocess: synth's own Python has the whole virtualenv on its path, so a definition that
imports a library the bundle lacks loads fine here and fails on AWS with ImportError at cold
start, on every record. The sandbox is a fresh interpreter without site-packages (`-I -S`): on
its path are the bundle and the standard library, plus exactly the packages Lambda provides
beside the bundle (boto3 and its dependencies, Powertools and pydantic), found where this Python
has them. It loads the definition the way a Lambda does (`load_migration`), then reads the
definition's own modules that got loaded for imports made later (inside a transform's body), and
checks each resolves in the sandbox too. Imports guarded by `try: ... except ImportError` and
`if TYPE_CHECKING:` are optional by their author's choice and are not required, and so is a
deferred import of hypothesis: a definition's `strategies` import it inside their bodies, and
only `cutover check` calls them (at module level it would fail the sandbox import, as on Lambda).

The sandbox runs Python 3.11 where Lambda runs 3.12: a standard module 3.12 removed is named
from a list (REMOVED_IN_LAMBDA) rather than found missing.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from cutover.errors import ConfigError
from infra.constructs.distributions import PROVIDED

REMOVED_IN_LAMBDA = ("asynchat", "asyncore", "distutils", "imp", "smtpd")  # gone in Python 3.12
CHECK_ONLY = ("hypothesis",)  # what `strategies` import for `cutover check`, never called on Lambda
TIMEOUT_SECONDS = 180  # a fresh interpreter importing the engine's foundation; generous for a loaded machine

# Run first in the sandbox: argv[1] is JSON [bundle, [site dirs], [provided top-level names]].
PRELUDE = r"""
import importlib.abc, importlib.machinery, json, sys
BUNDLE, SITE, PROVIDED = json.loads(sys.argv[1])[:3]
sys.path[:] = [BUNDLE] + [p for p in sys.path if p and "-packages" not in p]
class Provided(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if path is None and name in PROVIDED:
            return importlib.machinery.PathFinder.find_spec(name, SITE)
        return None
sys.meta_path.append(Provided())
"""

# argv[1] continues with [spec, [top-level packages of the definition], [removed], [check only]].
CHECK = r"""
import ast, importlib.util, os
SPEC, TOPS, REMOVED, CHECK_ONLY = json.loads(sys.argv[1])[3:]
from cutover.migration import MigrationError
from cutover.migration_loader import load_migration
try:
    load_migration(SPEC)
except MigrationError as exc:
    cause = exc.__cause__
    missing = cause.name if isinstance(cause, ModuleNotFoundError) else None
    print(json.dumps({"load": str(exc), "missing": missing}))
    raise SystemExit(0)

def optional(node):
    if isinstance(node, ast.Try):
        for handler in node.handlers:
            names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            if any(getattr(n, "id", getattr(n, "attr", "")) in ("ImportError", "ModuleNotFoundError") for n in names):
                return node.body
    if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
        return node.body
    return []

def imports(tree):
    skipped = set()
    for node in ast.walk(tree):
        for inner in optional(node):
            skipped.update(id(n) for n in ast.walk(inner))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from ((node.lineno, a.name.split(".")[0]) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]

roots = [os.path.join(BUNDLE, top) for top in TOPS]
problems = []
for module in list(sys.modules.values()):
    file = getattr(module, "__file__", None) or ""
    if not any(file.startswith(root + os.sep) or file == root + ".py" for root in roots):
        continue
    with open(file, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), file)
    for line, top in sorted(set(imports(tree))):
        if top in CHECK_ONLY:
            continue
        if top in REMOVED or importlib.util.find_spec(top) is None:
            problems.append([os.path.relpath(file, BUNDLE), line, top, top in REMOVED])
print(json.dumps({"imports": sorted(problems)}))
"""


def provided_modules() -> tuple[list[str], list[str]]:
    """(site directories, top-level module names) of the PROVIDED distributions installed here."""
    sites: list[str] = []
    names: set[str] = set()
    for name in PROVIDED:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # not needed by anything here, so nothing imports it
        site = str(dist.locate_file(""))
        if site not in sites:
            sites.append(site)
        for record in dist.files or ():
            top = record.parts[0]
            if top != ".." and not top.endswith((".dist-info", ".pth", ".egg-info")) and top != "__pycache__":
                names.add(top.removesuffix(".py"))
    return sites, sorted(names)


def run_in_sandbox(bundle: Path, script: str, extra: Sequence[object] = ()) -> subprocess.CompletedProcess[str]:
    """Run `script` with only the bundle, the standard library and Lambda's provided packages on
    the path (`json.loads(sys.argv[1])[3:]` is `extra`)."""
    sites, names = provided_modules()
    argv = [sys.executable, "-I", "-S", "-c", PRELUDE + script, json.dumps([str(bundle), sites, names, *extra])]
    with tempfile.TemporaryDirectory() as empty:  # load_migration appends the cwd to sys.path
        return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, cwd=empty, env={})


def check_definition(bundle: Path, spec: str, tops: Iterable[str]) -> None:
    """Refuse, at synth, a definition the bundle cannot import.

    Raises:
        ConfigError: one line naming the module that is missing, where the definition imports
            it, the distribution that has it here, and the fix.
    """
    result = run_in_sandbox(bundle, CHECK, [spec, sorted(set(tops)), list(REMOVED_IN_LAMBDA), list(CHECK_ONLY)])
    try:
        report = json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        tail = " ".join(result.stderr.split())[-300:]
        raise ConfigError(f"migration {spec!r}: loading it from the Lambda bundle crashed: {tail}") from None
    if "load" in report:
        missing = report["missing"]
        if missing:
            raise ConfigError(f"migration {spec!r}: {_missing(missing, 'importing it from the Lambda bundle alone')}")
        raise ConfigError(f"migration {spec!r} does not load from the Lambda bundle alone: {report['load']}")
    problems = report["imports"]
    if problems:
        file, line, top, removed = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        where = f"{file}:{line} imports {top!r}"
        if removed:
            text = f"{where}, which Python 3.12 (Lambda's runtime) removed: import its replacement"
        else:
            text = _missing(top, where)
        raise ConfigError(f"migration {spec!r}: {text}{more}")


def _missing(module: str, where: str) -> str:
    """Why `module` is not in the bundle, and what to do about it."""
    if module in CHECK_ONLY:
        return f"{where}: {module} is for `cutover check` only: import it inside the functions of your strategies"
    owners = sorted(metadata.packages_distributions().get(module, ()))
    if not owners:
        return (
            f"{where}: no module named {module!r} in the Lambda bundle or this Python: install it, "
            "then add its distribution to Migration(requires=...)"
        )
    return (
        f"{where}: module {module!r} is not in the Lambda bundle: add its distribution {owners[0]!r} to "
        "Migration(requires=...)"
    )
