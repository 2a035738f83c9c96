"""Find and load the migration definition, once per process (CLI start, Lambda cold start).

In order: an explicit spec (`--migration module:attribute`), the `CUTOVER_MIGRATION` environment
variable, `[tool.cutover] migration = "module:attribute"` in the user's own pyproject.toml (the
nearest one from the working directory upward that has it), else the seed migration.

The user's module is imported by name. A console script does not have the working directory on
`sys.path`, so it is appended (the pyproject's directory for that route): a team's definition
beside its code is found without installing it, and an installed package of the same name still
wins. The seed is imported by string (importlib), so no engine module imports `migrations`.
Every failure is one `MigrationError` line naming the spec, where it came from, and the fix.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cutover.migration import Migration, MigrationError

ENV_VAR = "CUTOVER_MIGRATION"
DEFAULT_SPEC = "migrations.seed:MIGRATION"
_SPEC = re.compile(r"^(?P<module>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*):(?P<attribute>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)$")
_CACHE: dict[str, Migration] = {}


@dataclass(frozen=True)
class Resolved:
    spec: str
    origin: str  # where the spec came from, as a person reads it in an error
    path: Path | None = None  # a directory to append to sys.path (cwd, or the pyproject's)


def resolve_spec(spec: str | None = None, *, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Resolved:
    """Which definition to load, and from where the choice came (nothing is imported)."""
    env = os.environ if env is None else env
    here = Path.cwd() if cwd is None else cwd
    if spec:
        return Resolved(spec, "--migration", here)
    if env.get(ENV_VAR):
        return Resolved(env[ENV_VAR], ENV_VAR, here)
    found = _from_pyproject(here)
    if found is not None:
        return found
    return Resolved(DEFAULT_SPEC, "the default (the seed migration)")


def load_migration(
    spec: str | None = None, *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Migration:
    """The migration to run, imported and validated once per process per spec.

    Raises:
        MigrationError: the spec is malformed, its module cannot be imported, the attribute is
            missing or not a Migration, or the definition is invalid (one line each).
    """
    resolved = resolve_spec(spec, env=env, cwd=cwd)
    cached = _CACHE.get(resolved.spec)
    if cached is None:
        cached = _CACHE[resolved.spec] = _load(resolved)
    return cached


def clear_cache() -> None:
    """Forget loaded definitions (tests only: a process reads its definition once)."""
    _CACHE.clear()


def _load(resolved: Resolved) -> Migration:
    spec, origin = resolved.spec, resolved.origin
    match = _SPEC.match(spec.strip())
    if not match:
        raise MigrationError(f"{origin} {spec!r} is not module:attribute: write e.g. migrations.catalog:MIGRATION")
    module_name, attribute = match["module"], match["attribute"]
    if resolved.path is not None and str(resolved.path) not in sys.path:
        sys.path.append(str(resolved.path))
    try:
        module = importlib.import_module(module_name)
    except MigrationError as exc:
        raise MigrationError(f"{origin} {spec!r}: {exc}") from exc
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise MigrationError(
                f"{origin} {spec!r}: no module named {exc.name!r}: run from the directory that holds it, "
                "install it, or fix the module name"
            ) from exc
        raise MigrationError(f"{origin} {spec!r}: importing {module_name} failed: {_one_line(exc)}") from exc
    except Exception as exc:  # a user's module may raise anything at import: report it in one line
        raise MigrationError(f"{origin} {spec!r}: importing {module_name} failed: {_one_line(exc)}") from exc
    value: object = module
    for part in attribute.split("."):
        if not hasattr(value, part):
            raise MigrationError(
                f"{origin} {spec!r}: {module_name} has no attribute {attribute!r}: "
                "name the Migration object the module defines"
            )
        value = getattr(value, part)
    if not isinstance(value, Migration):
        raise MigrationError(
            f"{origin} {spec!r} is {type(value).__name__}, not a cutover.migration.Migration: "
            "point it at a Migration(...) object"
        )
    return value


def _from_pyproject(start: Path) -> Resolved | None:
    for directory in (start, *start.parents):
        path = directory / "pyproject.toml"
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise MigrationError(f"cannot read {path} for [tool.cutover]: {_one_line(exc)}: fix the file") from exc
        table = data.get("tool", {}).get("cutover")
        if not isinstance(table, dict) or "migration" not in table:
            continue
        spec = table["migration"]
        origin = f"[tool.cutover] migration in {path}"
        if not isinstance(spec, str) or not spec:
            raise MigrationError(f"{origin} must be a string module:attribute, got {spec!r}")
        return Resolved(spec, origin, directory)
    return None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
