"""`cutover check` proves a definition: both shipped migrations and a third shape pass at 200
examples per transform; each deliberately broken definition (tests/unit/check_migrations.py)
fails with exit 1, the property named and the shrunk item printed; an invalid one exits 2."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cutover.migration_loader import clear_cache
from cutover_cli.app import main

HERE = Path(__file__).resolve().parent


def check(*args: str):
    clear_cache()
    return CliRunner().invoke(main, ["check", *args], env={"CUTOVER_MIGRATION": ""})


@pytest.mark.parametrize(
    "spec,roles",
    [
        ("migrations.seed:MIGRATION", ("users", "orders")),
        ("migrations.catalog:MIGRATION", ("products", "reviews")),
        ("check_migrations:TELEMETRY", ("readings",)),  # N hash key and B range key on the source
    ],
)
def test_shipped_and_third_shape_migrations_pass_at_200_examples(spec, roles):
    # When checked with 200 examples per transform (what CI runs)
    result = check("--migration", spec, "--examples", "200", "--json")
    # Then every property holds, and each transform ran its 200 examples, both paths exercised
    assert result.exit_code == 0, result.output[-3000:]
    report = json.loads(result.output)
    assert report["ok"] and report["failure"] is None
    assert report["completed"] == [*roles, "batches"]
    for role in roles:
        stats = report["sources"][role]
        assert stats["examples"] >= 200, stats
        assert stats["items"] > 0 and stats["items"] + stats["rejected"] >= stats["examples"] - stats["not_migrated"]
    assert report["batches"]["examples"] >= 200


def test_human_summary_fits_80_columns_and_default_is_the_seed():
    result = check("--examples", "30", "--seed", "7")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "migration seed: users, orders -> my-service-dev-users-v3 (seed 7)"
    assert all(len(line) <= 80 for line in lines), lines
    assert any(line.startswith("  users ") and "30 examples" in line for line in lines)
    assert lines[-1].startswith("every property holds")


BROKEN = [
    ("NONDETERMINISTIC", "deterministic", "differs in draw"),
    ("MUTATING", "pure", "changed attribute(s) seen"),
    ("CRASHING", "only-transform-errors", "KeyError"),
    ("COLLIDING", "unique-keys", "comes from two source items"),
    ("WRONG_KEY_TYPE", "target-key", "has no string pk (the target's hash key), got number"),
    ("UNDERSCORE", "no-underscore", "_migratedBy"),
    ("WRONG_INDEX_TYPE", "index-keys", "gsi is a key of the target index ByGsi"),
    ("OVERSIZED", "size", "limit 409600"),
    ("DUPLICATE_IN_CALL", "distinct-in-call", "share the target key"),
    ("NOT_A_LIST", "output-shape", "not a list of items"),
    ("BROKEN_INVERSE", "inverse-keeps", "kind thing: note differ"),
    ("INVERSE_NOT_ACCEPTED", "inverse-roundtrip", "transform(inverse(y)) raised TransformError"),
]


@pytest.mark.parametrize("name,prop,words", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_definition_fails_naming_the_property_and_the_shrunk_item(name, prop, words):
    # When a definition broken in one way is checked
    result = check("--migration", f"check_migrations:{name}", "--examples", "100", "--seed", "11")
    # Then exit 1, one `property:` line naming the property and what failed, then the shrunk item(s)
    assert result.exit_code == 1, result.output[-3000:]
    lines = result.output.splitlines()
    failing = [line for line in lines if line.startswith("property: ")]
    assert len(failing) == 1 and failing[0].startswith(f"property: {prop} ") and words in failing[0], lines
    items = [line for line in lines if line.startswith("item")]
    assert items, lines
    for line in items:
        shrunk = json.loads(line.split(": ", 1)[1])
        assert shrunk["id"] == {"S": "a"}  # shrunk to the simplest key the generator has
    assert "--seed 11" in lines[-1]


def test_the_readmes_definition_passes_from_its_own_pyproject(tmp_path, monkeypatch):
    # Given the README's "Your own migration" definition beside a pyproject.toml that names it
    readme = (HERE.parents[1] / "README.md").read_text()
    block = re.search(r"## Your own migration.*?```python\n(.*?)```", readme, re.S)
    assert block, "README has no 'Your own migration' definition"
    (tmp_path / "readme_migration.py").write_text(block.group(1))
    (tmp_path / "pyproject.toml").write_text('[tool.cutover]\nmigration = "readme_migration:MIGRATION"\n')
    monkeypatch.chdir(tmp_path)
    # When `cutover check` runs there with nothing else given
    result = check("--examples", "50")
    # Then it is the one checked, and it passes
    assert result.exit_code == 0, result.output[-3000:]
    assert result.output.startswith("migration accounts: customers -> my-service-dev-accounts")


def test_collisions_name_both_sources_items():
    result = check("--migration", "check_migrations:COLLIDING", "--examples", "50", "--seed", "3")
    items = [line for line in result.output.splitlines() if line.startswith("item")]
    assert [line.split(":")[0] for line in items] == ["item [left]", "item [right]"], result.output


def test_json_failure_carries_the_property_and_items():
    result = check("--migration", "check_migrations:UNDERSCORE", "--examples", "20", "--json")
    assert result.exit_code == 1
    failure = json.loads(result.output)["failure"]
    assert failure["property"] == "no-underscore" and failure["items"] == [{"id": {"S": "a"}}]


def test_an_invalid_definition_exits_2_with_its_one_line_error(tmp_path):
    (tmp_path / "bad_definition.py").write_text(
        "from cutover.migration import Index, Key, Migration, Source, Target\n"
        "MIGRATION = Migration(name='bad', target=Target(table='{service}-{stage}-t', hash_key=Key('pk'),\n"
        "    indexes=(Index('ByGhost', 'ghost'),)),\n"
        "    sources=(Source(role='s', table='legacy-s', hash_key=Key('id'), transform=lambda item: []),))\n"
    )
    sys.path.append(str(tmp_path))
    try:
        result = check("--migration", "bad_definition:MIGRATION")
    finally:
        sys.path.remove(str(tmp_path))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0] == (
        "error: --migration 'bad_definition:MIGRATION': migration 'bad': target.indexes[0] (ByGhost).hash_key: "
        "'ghost' has no declared type: write Key('ghost', 'S') (or 'N', 'B') here"
    )


def test_the_installed_entry_point_exits_1_on_a_finding():
    # Given a fresh interpreter running the real `cutover` entry point
    env = {**os.environ, "PYTHONPATH": str(HERE), "CUTOVER_MIGRATION": ""}
    script = "from cutover_cli.app import main; main()"
    out = subprocess.run(
        [sys.executable, "-c", script, "check", "--migration", "check_migrations:MUTATING", "--examples", "20"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    # Then the finding is exit 1 with the property on stdout
    assert out.returncode == 1, out.stdout + out.stderr
    assert "property: pure [things]" in out.stdout
