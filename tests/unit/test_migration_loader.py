"""Which definition runs: --migration, then CUTOVER_MIGRATION, then [tool.cutover] in the user's
pyproject.toml, else the seed; every failure one MigrationError line naming the spec and the fix."""

from __future__ import annotations

import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from cutover.migration import Migration, MigrationError
from cutover.migration_loader import clear_cache, load_migration, resolve_spec

DEFINITION = textwrap.dedent("""
    from cutover.migration import Key, Migration, Source, Target

    def move(item):
        return [{"pk": item["id"], "sk": "X"}]

    MIGRATION = Migration(
        name="mine",
        target=Target(table="{service}-{stage}-mine", hash_key=Key("pk"), range_key=Key("sk")),
        sources=(Source(role="things", table="things", hash_key=Key("id"), transform=move),),
    )
""")


@pytest.fixture(autouse=True)
def fresh():
    clear_cache()
    path = list(sys.path)
    yield
    sys.path[:] = path
    clear_cache()


def module_in(directory: Path, text: str = DEFINITION) -> str:
    """A uniquely named module file in `directory` (so no test sees another's import)."""
    name = f"user_migration_{uuid.uuid4().hex[:8]}"
    (directory / f"{name}.py").write_text(text)
    return name


def test_default_is_the_seed_imported_by_name(tmp_path):
    migration = load_migration(env={}, cwd=tmp_path)
    assert migration.name == "seed" and migration.roles == ("users", "orders")
    assert resolve_spec(env={}, cwd=tmp_path).origin == "the default (the seed migration)"


def test_explicit_spec_wins_over_env_and_pyproject(tmp_path):
    module = module_in(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.cutover]\nmigration = "migrations.seed:MIGRATION"\n')
    env = {"CUTOVER_MIGRATION": "migrations.catalog:MIGRATION"}
    assert load_migration(f"{module}:MIGRATION", env=env, cwd=tmp_path).name == "mine"
    assert load_migration(env=env, cwd=tmp_path).name == "catalog"
    assert load_migration(env={}, cwd=tmp_path).name == "seed"


def test_the_working_directory_is_searched_for_the_users_module(tmp_path):
    # Given a definition beside the user's code, not installed, When named by module:attribute
    module = module_in(tmp_path)
    migration = load_migration(f"{module}:MIGRATION", env={}, cwd=tmp_path)
    # Then it is imported from the working directory, once per process
    assert isinstance(migration, Migration) and migration.name == "mine"
    assert load_migration(f"{module}:MIGRATION", env={}, cwd=tmp_path) is migration


def test_pyproject_is_found_from_a_subdirectory_and_its_directory_searched(tmp_path):
    # Given the user's pyproject.toml naming a module beside it, and a run from a subdirectory
    module = module_in(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "x"\n\n[tool.cutover]\nmigration = "{module}:MIGRATION"\n'
    )
    below = tmp_path / "src" / "deep"
    below.mkdir(parents=True)
    # When loaded with nothing else given
    resolved = resolve_spec(env={}, cwd=below)
    # Then that pyproject decides, and the module is found from its directory
    assert resolved.spec == f"{module}:MIGRATION" and str(tmp_path / "pyproject.toml") in resolved.origin
    assert load_migration(env={}, cwd=below).name == "mine"


def test_a_pyproject_without_tool_cutover_is_skipped(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_migration(env={}, cwd=tmp_path).name == "seed"


def one_line(exc: pytest.ExceptionInfo[MigrationError]) -> str:
    message = str(exc.value)
    assert "\n" not in message and exc.value.exit_code == 2
    return message


@pytest.mark.parametrize(
    "spec,words",
    [
        ("migrations.seed", "is not module:attribute: write e.g. migrations.catalog:MIGRATION"),
        ("migrations.seed:", "is not module:attribute"),
        ("no_such_module_here:MIGRATION", "no module named 'no_such_module_here': run from the directory"),
        ("migrations.seed:NOPE", "migrations.seed has no attribute 'NOPE': name the Migration object"),
        ("migrations.seed:EMAIL_INDEX", "is str, not a cutover.migration.Migration"),
    ],
)
def test_bad_specs_are_one_line_naming_the_spec_and_its_origin(spec, words, tmp_path):
    with pytest.raises(MigrationError) as info:
        load_migration(spec, env={}, cwd=tmp_path)
    message = one_line(info)
    assert message.startswith(f"--migration {spec!r}") and words in message, message


def test_env_origin_is_named(tmp_path):
    with pytest.raises(MigrationError) as info:
        load_migration(env={"CUTOVER_MIGRATION": "nothing-here"}, cwd=tmp_path)
    assert one_line(info).startswith("CUTOVER_MIGRATION 'nothing-here' is not module:attribute")


def test_a_module_that_fails_at_import_is_one_line(tmp_path):
    module = module_in(tmp_path, "import json\nraise RuntimeError('boom\\non two lines')\n")
    with pytest.raises(MigrationError) as info:
        load_migration(f"{module}:MIGRATION", env={}, cwd=tmp_path)
    assert f"importing {module} failed: RuntimeError: boom on two lines" in one_line(info)


def test_a_module_importing_something_missing_says_what(tmp_path):
    module = module_in(tmp_path, "import definitely_not_installed_xyz\n")
    with pytest.raises(MigrationError) as info:
        load_migration(f"{module}:MIGRATION", env={}, cwd=tmp_path)
    assert "ModuleNotFoundError: No module named 'definitely_not_installed_xyz'" in one_line(info)


def test_an_invalid_definition_names_the_spec_and_the_field(tmp_path):
    module = module_in(tmp_path, DEFINITION.replace('role="things"', 'role="Things"'))
    with pytest.raises(MigrationError) as info:
        load_migration(f"{module}:MIGRATION", env={}, cwd=tmp_path)
    message = one_line(info)
    assert message.startswith(f"--migration '{module}:MIGRATION': migration 'mine': sources[0].role: "), message


def test_a_broken_pyproject_is_one_line(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.cutover\nmigration = 1\n")
    with pytest.raises(MigrationError) as info:
        load_migration(env={}, cwd=tmp_path)
    assert "cannot read" in one_line(info) and "fix the file" in str(info.value)
    (tmp_path / "pyproject.toml").write_text("[tool.cutover]\nmigration = 1\n")
    with pytest.raises(MigrationError) as info:
        load_migration(env={}, cwd=tmp_path)
    assert "must be a string module:attribute, got 1" in one_line(info)
