"""The engine knows no schema: none of the seed migration's names appears in its code.

Everything the engine guarantees (version guard, tombstones, quarantine, backfill, reconcile,
repair, gate, flip) needs only the migration definition, so a seed name in engine code is a
schema leak: a team bringing its own tables would hit it. import-linter alone cannot see a copied
constant, so this reads the code: every identifier (split into words: `users_table` is "users"
and "table", `userId` is "user" and "Id") and every string literal that is not a docstring.

Where the seed may be named: `migrations/` (the definitions), `app_handlers/` (the seed's own
example API; its generic read-routing library is checked) and `infra/stacks/api.py` (that API's
stack, deployed only for the seed), `cutover_cli/demo/` (the seed's guided demo, which also runs
any definition), and tests.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ("cutover", "replicator", "backfill", "reconciler", "controlplane", "infra", "cutover_cli", "bench")
# the seed's guided demo, and the stack of its example API (deployed only for the seed: infra/config.py)
SEED_APP = ("cutover_cli/demo", "infra/stacks/api.py")
CHECKED_APP_MODULES = ("app_handlers/routing.py",)
WORDS = {"users", "orders", "userid", "recordtype", "orderid"}
LITERALS = ("users", "orders", "userId", "recordType", "PROFILE", "ORDER#", "EmailLookupIndex", "TimeSeriesIndex",
            "email-index", "userId-index", "orderId")  # fmt: skip
_LITERAL = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(re.escape(w) for w in LITERALS) + r")(?![A-Za-z0-9_])")


def _words(identifier: str) -> set[str]:
    joined = {identifier.lower().replace("_", "")}
    parts = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", identifier)
    return (
        joined | {p.lower() for p in parts} | {"".join(p.lower() for p in parts[i : i + 2]) for i in range(len(parts))}
    )


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def seed_names(source: str) -> list[tuple[int, str]]:
    """(line, what) for every seed name in code: identifiers and non-docstring string literals."""
    tree = ast.parse(source)
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Name):
            names = [node.id]
        elif isinstance(node, ast.Attribute):
            names = [node.attr]
        elif isinstance(node, ast.arg):
            names = [node.arg]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names = [node.name]
        elif isinstance(node, ast.alias):
            names = [node.asname or node.name.rsplit(".", 1)[-1]]
        elif isinstance(node, ast.keyword) and node.arg:
            names = [node.arg]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            match = _LITERAL.search(node.value)
            if match:
                found.append((getattr(node, "lineno", 0), f"string {match.group(1)!r}"))
            continue
        for name in names:
            hit = _words(name) & WORDS
            if hit:
                found.append((getattr(node, "lineno", 0), f"identifier {name} ({', '.join(sorted(hit))})"))
    return found


def _engine_files() -> list[Path]:
    files = [p for pkg in ENGINE for p in (ROOT / pkg).rglob("*.py")]
    files = [p for p in files if not any(p.relative_to(ROOT).as_posix().startswith(s) for s in SEED_APP)]
    return sorted(files + [ROOT / m for m in CHECKED_APP_MODULES if (ROOT / m).exists()])


def test_the_lint_finds_seed_names_in_code_but_not_in_docstrings():
    source = '''
"""Docstrings may say users and orders."""
TABLE = "users"
def f(users_table, recordType=None):
    """So may these: PROFILE, ORDER#."""
    return {"k": "ORDER#" + users_table}
key = item.userId
generic = ("role", "target", "sources", "user_count_hint")
'''
    found = {what for _, what in seed_names(source)}
    assert found == {
        "string 'users'",
        "identifier users_table (users)",
        "identifier recordType (recordtype)",
        "string 'ORDER#'",
        "identifier userId (userid)",
    }, found


def test_no_engine_module_names_the_seed_schema():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in _engine_files()
        for line, what in seed_names(path.read_text())
    ]
    assert not offenders, "the engine names the seed migration (use the definition instead):\n" + "\n".join(offenders)


def test_a_role_too_long_for_its_queue_name_is_refused_naming_it():
    import pytest

    from cutover.errors import ConfigError
    from cutover.migration import Key, Migration, Source, Target
    from cutover.names import Names

    # Given a source role of 20 characters (the longest a role may be) and the longest prefix (42)
    role = "a" * 20
    migration = Migration(
        name="long",
        target=Target(table="{service}-{stage}-t", hash_key=Key("pk")),
        sources=(Source(role=role, table="{service}-{stage}-s", hash_key=Key("id"), transform=lambda i: []),),
    )
    # Then its queue name would be 87 characters: refused, naming the role and SQS's limit
    with pytest.raises(ConfigError, match=f"on-failure queue of source '{role}' would be named .* SQS allows 80"):
        Names("s" * 20, "t" * 21, migration=migration)
    assert Names("svc", "dev", migration=migration).failure_queue(role)  # a short prefix leaves room
