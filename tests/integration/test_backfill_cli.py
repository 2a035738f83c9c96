"""`cutover backfill` through the CLI against the moto server: exit codes, --json, refusal, --segment."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cutover.clock import utc_now
from cutover.codec import from_ddb, to_ddb
from cutover.state import BACKFILL_RUN, CheckpointStore, ReportStore
from cutover_cli.app import main
from replicator.positions import PositionStore

pytestmark = pytest.mark.server


def _seed(clients, names, users: int, orders: int) -> None:
    ddb = clients.dynamodb
    for table, items in (
        (names.source_table("users"), [{"userId": f"u{i}", "email": f"U{i}@x"} for i in range(users)]),
        (
            names.source_table("orders"),
            [{"orderId": f"o{i}", "userId": f"u{i % 7}", "total": i} for i in range(orders)],
        ),
    ):
        for start in range(0, len(items), 25):
            ddb.batch_write_item(
                RequestItems={table: [{"PutRequest": {"Item": to_ddb(i)}} for i in items[start : start + 25]]}
            )


def _run(settings, *args: str):
    return CliRunner().invoke(
        main, ["backfill", "--endpoint-url", settings.endpoint_url, "--service", settings.service, *args]
    )


def test_refuses_to_start_when_sync_never_ran(settings, clients):
    _seed(clients, settings.names, 3, 0)
    # When backfill runs without sync ever having run
    result = _run(settings, "--table", "users")
    # Then it exits 2 with one line naming the table and the way out, and wrote nothing
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert settings.names.source_table("users") in result.output and "--i-know-sync-is-off" in result.output
    assert clients.dynamodb.scan(TableName=settings.names.v3_table)["Count"] == 0


def test_runs_once_sync_has_run_and_reports_json(settings, clients):
    _seed(clients, settings.names, 30, 40)
    store = PositionStore(CheckpointStore(clients.dynamodb, settings.names.checkpoints_table))
    for source in ("users", "orders"):
        store.save_meta(source, {"table": source, "caught_up_at": utc_now()})  # sync caught up just now
    # When backfill runs with --json, Then exit 0 and the JSON summary has every count per table
    result = _run(settings, "--json", "--segments", "3", "--workers", "2")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["complete"] is True
    assert summary["tables"]["users"] | {"seconds": 0} == {
        "scanned": 30,
        "written": 30,
        "already_filled": 0,
        "skipped_newer": 0,
        "quarantined": 0,
        "not_migrated": 0,
        "seconds": 0,
        "segments_done": 3,
    }
    assert summary["tables"]["orders"]["written"] == 40
    # And the run is recorded for `cutover status`
    latest = ReportStore(clients.dynamodb, settings.names.reports_table).latest(BACKFILL_RUN)
    assert latest["run_id"] == summary["run_id"] and latest["complete"] is True
    # When it runs again after that complete run, Then it is a new run (issue 13): it re-scans
    # everything and fills nothing, since v3 already holds every item; and it says so
    again = json.loads(_run(settings, "--json", "--segments", "3").output)
    assert again["scanned_this_run"] == 70 and again["tables"]["orders"]["written"] == 0
    assert again["tables"]["orders"]["already_filled"] == 40 and again["run_id"] != summary["run_id"]
    assert {p["action"] for p in again["plans"].values()} == {"new-after-complete"}


def test_one_segment_only_and_human_summary(settings, clients):
    _seed(clients, settings.names, 40, 0)
    # When only segment 1 of 4 runs
    result = _run(settings, "--table", "users", "--segment", "1", "--segments", "4", "--i-know-sync-is-off", "--quiet")
    # Then the summary says incomplete, 1/4 segments, and only that segment's items are in v3
    assert result.exit_code == 0, result.output
    assert "incomplete (run again to resume)" in result.output and "1/4" in result.output
    v3 = clients.dynamodb.scan(TableName=settings.names.v3_table)["Items"]
    assert 0 < len(v3) < 40
    done = CheckpointStore(clients.dynamodb, settings.names.checkpoints_table).query("backfill#users#4")
    assert list(done) == ["1"] and done["1"]["counts"]["written"] == len(v3)
    assert {from_ddb(i)["_version"] for i in v3} == {"0"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--segment", "5", "--segments", "2"), "--segment 5 is outside 0..1"),
        (("--table", "things"), "unknown table 'things'"),
        (("--rate", "0"), "Invalid value for '--rate'"),
    ],
)
def test_bad_arguments_exit_2_with_the_fix(settings, args, message):
    result = _run(settings, "--i-know-sync-is-off", *args)
    assert result.exit_code == 2 and message in result.output


def test_every_option_has_help_text():
    # Given the command's help, Then each option is described (a new option without help fails here)
    for name in ("backfill", "reconcile"):
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0
        command = main.get_command(None, name)
        for param in command.params:
            assert param.help, f"{name} {param.name} has no help text"
    text = CliRunner().invoke(main, ["backfill", "--help"]).output
    for option in ("--segments", "--workers", "--segment", "--rate", "--restart", "--i-know-sync-is-off", "--table"):
        assert option in text


def _first_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("users: ")]


def test_a_run_stopped_before_its_first_checkpoint_is_resumed_not_restarted(settings, clients):
    _seed(clients, settings.names, 6, 0)
    # Given a run that was recorded as the table's current run, then Ctrl-C'd before any page was saved
    # (a run records itself first, then scans)
    store = CheckpointStore(clients.dynamodb, settings.names.checkpoints_table)
    store.put("backfill#users", "current", {"segments": 2, "run_id": "abc123abc123", "at": utc_now()})
    # When the same command runs again
    result = _run(settings, "--table", "users", "--segments", "2", "--i-know-sync-is-off", "--quiet")
    # Then it resumes that run, saying so, instead of starting a new one
    assert result.exit_code == 0, result.output
    assert _first_lines(result) == ["users: resuming backfill run abc123abc123 (0/2 segments done)"], result.output
    assert "backfill abc123abc123: complete" in result.output


def test_restart_says_which_run_it_discards_and_how_far_it_was(settings, clients):
    _seed(clients, settings.names, 6, 0)
    # Given an interrupted run: one segment of two finished
    first = _run(settings, "--table", "users", "--segments", "2", "--segment", "0", "--i-know-sync-is-off", "--quiet")
    assert first.exit_code == 0, first.output
    old = first.output.split("starting backfill run ", 1)[1].split()[0]
    # When it is thrown away with --restart
    result = _run(settings, "--table", "users", "--segments", "2", "--restart", "--i-know-sync-is-off", "--quiet")
    # Then the first line names the run it discards, how far it was, and the new run
    assert result.exit_code == 0, result.output
    (line,) = _first_lines(result)
    assert line.startswith(f"users: --restart discards run {old} (1/2 segments done); starting run "), line
    new = line.split("starting run ", 1)[1].split()[0]
    assert new != old and line.endswith("(2 segments)") and f"backfill {new}: complete" in result.output


def test_the_bars_never_count_past_their_total_when_the_table_estimate_is_low(settings, clients, monkeypatch):
    import backfill.runner

    _seed(clients, settings.names, 12, 0)
    # Given DescribeTable's ItemCount lagging behind the table (DynamoDB refreshes it every ~6 h)
    monkeypatch.setattr(backfill.runner, "item_count", lambda client, table: 10)
    # When backfill shows its bars
    result = _run(settings, "--table", "users", "--segments", "2", "--i-know-sync-is-off")
    assert result.exit_code == 0, result.output
    # Then the bar ends at 12/12, never 12/10
    bar = next(line for line in result.output.splitlines() if line.startswith("users ") and "items/s" in line)
    assert " 12/12 " in bar, bar
