"""The CLI end to end against the moto server: init, sync --once, quarantine list/redrive, local."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cutover.codec import from_ddb, to_ddb
from cutover_cli.app import main
from cutover_cli.local_backend import free_port

pytestmark = pytest.mark.server


def cli(settings, *args):
    result = CliRunner().invoke(main, [*args, "--endpoint-url", settings.endpoint_url, "--service", settings.service])
    return result


def _put(clients, table, item):
    clients.dynamodb.put_item(TableName=table, Item=to_ddb(item))


def test_init_sync_and_quarantine_list_through_the_cli(settings, clients):
    names = settings.names
    # Given init (idempotent) and a few legacy writes, one of them bad
    assert cli(settings, "init", "--json").exit_code == 0
    _put(clients, names.source_table("users"), {"userId": "u1", "email": " A@B.io "})
    _put(clients, names.source_table("orders"), {"orderId": "o1", "userId": "u1", "createdAt": 1_700_000_000})
    _put(clients, names.source_table("users"), {"userId": "u2", "createdAt": "2024-01-01"})
    # When sync drains once
    synced = cli(settings, "sync", "--once", "--json")
    # Then it exits 0 and reports every record
    assert synced.exit_code == 0, synced.output
    report = json.loads(synced.stdout)
    assert report["applied"] == 3 and report["quarantined"] == 1 and report["tables"] == {"users": 2, "orders": 1}
    v3 = clients.dynamodb.get_item(TableName=names.v3_table, Key=to_ddb({"userId": "u1", "recordType": "PROFILE"}))
    assert from_ddb(v3["Item"])["email"] == "a@b.io"
    # And quarantine list shows the bad user
    listed = cli(settings, "quarantine", "list", "--json")
    assert listed.exit_code == 0
    assert [(r["source"], r["key"], r["reason"]) for r in json.loads(listed.stdout)] == [
        ("users", "u2", "invalid_email")
    ]


def test_unreachable_endpoint_is_one_line_and_exit_2():
    # Given an endpoint nothing listens on
    url = f"http://127.0.0.1:{free_port()}"
    for args in (["sync", "--once"], ["quarantine", "list"]):
        # When a command runs against it
        result = CliRunner().invoke(main, [*args, "--endpoint-url", url])
        # Then it fails with exit 2 and a single error line, no traceback
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert (
            len(lines) == 1
            and lines[0].startswith("error: cannot reach the backend")
            and "Traceback" not in result.output
        )


def test_every_command_of_this_unit_has_help():
    for args in (["local"], ["sync"], ["quarantine"], ["quarantine", "list"], ["quarantine", "redrive"]):
        result = CliRunner().invoke(main, [*args, "--help"])
        assert result.exit_code == 0 and len(result.output.splitlines()) > 3
    assert "in memory" in CliRunner().invoke(main, ["local", "--help"]).output.replace("IN MEMORY", "in memory")


def test_local_serves_until_interrupted():
    # Given `cutover local` started as a real process
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("cutover")), "local", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in first
        lines = [proc.stdout.readline() for _ in range(2)]
        assert any(line.startswith("export CUTOVER_ENDPOINT_URL=http://127.0.0.1:") for line in lines)
    finally:
        # When interrupted, Then it exits cleanly
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0


def test_local_on_a_taken_port_fails_in_one_line_without_hanging():
    # Given another process already listening on a loopback port
    import socket

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        # When `cutover local` is asked for that port
        proc = subprocess.run(
            [str(Path(sys.executable).with_name("cutover")), "local", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    # Then it exits 2 at once with one line naming the port and the fix, and no traceback
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and f"cannot listen on 127.0.0.1:{port}" in proc.stderr
    assert "pick another --port" in proc.stderr and "Traceback" not in proc.stderr


def test_sync_against_missing_tables_names_the_table_and_the_fix(moto_server):
    # Given an endpoint where this service's tables were never created
    result = CliRunner().invoke(
        main, ["sync", "--once", "--endpoint-url", moto_server.endpoint_url, "--service", "never-initialised"]
    )
    # Then one line names the table and says to run init
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: legacy table never-initialised-dev-users does not exist: check --service/--stage, "
        "or run `cutover init` on a local endpoint"
    )


def test_a_missing_table_error_names_the_tables_this_run_looked_for(moto_server):
    # Given a stage whose tables were never created on this endpoint
    result = CliRunner().invoke(
        main,
        [
            "reconcile",
            "--quiet",
            "--endpoint-url",
            moto_server.endpoint_url,
            "--service",
            "never-made",
            "--stage",
            "staging",
        ],
    )
    # Then one line names the tables and the fix, exit 2
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert line.count("\n") == 0 and line.startswith("error: table(s) never-made-staging-users")
    assert "never-made-staging-users" in line and "never-made-staging-users-v3" in line
    assert "check --service/--stage/--region" in line


def test_ctrl_c_on_backfill_says_at_once_what_it_saves_and_exits_130(settings, clients):
    # Given a backfill slowed down by --rate, so it is still running when interrupted
    from cutover.codec import to_ddb

    for i in range(120):
        clients.dynamodb.put_item(
            TableName=settings.names.source_table("users"), Item=to_ddb({"userId": f"c{i}", "email": "a@b"})
        )
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("cutover")),
            "backfill",
            "--endpoint-url",
            settings.endpoint_url,
            "--service",
            settings.service,
            "--table",
            "users",
            "--rate",
            "10",
            "--page-size",
            "5",
            "--segments",
            "2",
            "--i-know-sync-is-off",
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # When Ctrl-C arrives as soon as the run has said it started: that line is printed inside the
    # command's Ctrl-C handler's scope, so the handler is installed by then, however slow start-up is
    before = []
    while not (line := proc.stderr.readline()).startswith("users: starting backfill run"):
        assert line, f"the backfill ended before saying it started: {before}, exit {proc.wait(timeout=60)}"
        before.append(line)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    first = proc.stderr.readline()
    said_after = time.monotonic() - sent
    proc.wait(timeout=60)
    # Then the first line comes at once and says what is saved; the exit code is 130 (README)
    assert "interrupted: finishing the pages in flight and saving each segment's cursor" in first
    assert said_after < 5.0, said_after  # generous for a loaded CI machine; it used to be 6-7 s of silence
    assert proc.returncode == 130


def test_status_lists_what_blocks_v3_in_the_order_to_fix_it_then_on_v3_says_how_to_roll_back(settings):
    # Given a fresh deployment: nothing synced, backfilled or reconciled, reads on legacy
    result = cli(settings, "status")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # Then every line fits 80 columns and sync's state names the tables in the migration's order
    assert max(len(line) for line in lines) <= 80, result.output
    assert "replication lag   unknown: users, orders never synced" in lines, result.output
    # And each refusal is listed in the order to fix it: sync, backfill, reconcile, shadow
    reasons = [line.strip()[2:] for line in lines if line.strip().startswith("- ")]
    expected = ["replication has never synced", "no complete backfill", "no reconcile has been", "read-source is"]
    assert [next(i for i, r in enumerate(reasons) if r.startswith(e)) for e in expected] == [0, 1, 2, 3], reasons
    # And each table's role and name stay on one line
    tables = "\n".join(lines[next(i for i, line in enumerate(lines) if line.startswith("tables")) :])
    for role, name in settings.names.describe().items():
        assert f"{role} {name}" in tables, tables
    # When reads are moved to v3 (forced: this deployment has no evidence)
    assert cli(settings, "flip", "shadow").exit_code == 0
    assert cli(settings, "flip", "v3", "--force", "--reason", "test").exit_code == 0
    on_v3 = cli(settings, "status").output
    # Then status says reads are on v3 and how to roll back, not that a flip to v3 is allowed
    assert "flip to v3 now    on v3; rollback: `cutover flip legacy`" in on_v3.splitlines(), on_v3
    assert "allowed" not in on_v3 and "refused" not in on_v3, on_v3
