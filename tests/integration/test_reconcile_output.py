"""What `cutover reconcile` prints for a person: differences show the differing attributes with
their expected and actual values (at 80 columns), a repair says what it found, what it repaired and
then the verdict after repair, and `--report ''` is a usage error."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from backfill.runner import run_backfill
from cutover.codec import from_ddb, to_ddb
from cutover_cli.app import main

pytestmark = pytest.mark.server


def _put(clients, table, item):
    clients.dynamodb.put_item(TableName=table, Item=to_ddb(item))


def _v3(clients, names, user_id, record_type):
    resp = clients.dynamodb.get_item(
        TableName=names.v3_table, Key=to_ddb({"userId": user_id, "recordType": record_type}), ConsistentRead=True
    )
    return from_ddb(resp["Item"])


def _reconcile(settings, tmp_path, *args):
    argv = ["reconcile", "--endpoint-url", settings.endpoint_url, "--service", settings.service, "--segments", "2"]
    return CliRunner().invoke(main, [*argv, "--quiet", "--report", str(tmp_path / "r.json"), *args])


@pytest.fixture
def drifted(settings, clients):
    """Six users backfilled, then v3 drifted: u1 lost, u2's plan and bio changed, a ghost user."""
    names = settings.names
    for i in range(6):
        _put(
            clients,
            names.source_table("users"),
            {"userId": f"u{i}", "email": f"u{i}@x", "plan": "free", "bio": "b" * 120},
        )
    run_backfill(settings, clients, segments=2, workers=2, require_sync=False)
    clients.dynamodb.delete_item(TableName=names.v3_table, Key=to_ddb({"userId": "u1", "recordType": "PROFILE"}))
    _put(clients, names.v3_table, {**_v3(clients, names, "u2", "PROFILE"), "plan": "pro", "bio": "c" * 120})
    _put(
        clients,
        names.v3_table,
        {
            "userId": "ghost",
            "recordType": "PROFILE",
            "entityType": "USER",
            "email": "g@x",
            "_version": "5",
            "_source": "users#ghost",
        },
    )
    return names


def test_differences_show_expected_and_actual_values_within_80_columns(settings, drifted, tmp_path):
    # When reconcile finds the drift
    result = _reconcile(settings, tmp_path)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    # Then every line fits 80 columns (but the report's path, never cut), and the different item
    # shows each differing attribute's values
    assert max(len(line) for line in lines if not line.startswith("  full report: ")) <= 80, result.output
    assert '      plan: expected "free", actual "pro"' in lines, result.output
    bio = next(line for line in lines if line.startswith("      bio: "))
    assert bio.startswith('      bio: expected "bbbb') and ', actual "cccc' in bio and bio.endswith("…"), bio
    # and no bookkeeping stands in for them
    assert "_version" not in result.output, result.output
    assert any(line.startswith("  missing") and "users#u1" in line for line in lines), result.output
    assert "not in v3" in result.output and "source_deleted" in result.output


def test_a_repair_says_what_it_found_and_repaired_then_the_verdict_after_repair(settings, drifted, tmp_path):
    # When a repair runs over the drift
    result = _reconcile(settings, tmp_path, "--repair")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # Then it says what it found, what it repaired, and only then the verdict
    assert lines[0].startswith("reconcile --repair: found 3 difference(s) in "), lines[0]
    found = next(i for i, line in enumerate(lines) if line.startswith("  found: missing 1  extra 1  different 1"))
    repaired = lines.index("  repaired 3  remaining 0")
    verdict = lines.index("reconcile after repair: CLEAN")
    assert found < repaired < verdict, result.output
    assert not any(line.startswith("reconcile: CLEAN") for line in lines), result.output
    assert sum("[repaired]" in line for line in lines) == 3, result.output
    # And a check afterwards is clean
    again = _reconcile(settings, tmp_path)
    assert again.exit_code == 0 and again.stdout.startswith("reconcile: CLEAN in "), again.output


@pytest.mark.parametrize("path", ["", "   "])
def test_an_empty_report_path_is_a_usage_error(settings, path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["reconcile", "--endpoint-url", settings.endpoint_url, "--service", settings.service, "--report", path]
    result = CliRunner().invoke(main, argv)
    # Then it refuses before any work: exit 2, one line that names the option
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and result.stderr.count("\n") == 1 and "--report" in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []
