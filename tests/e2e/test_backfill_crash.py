"""SIGKILL a running `cutover backfill` process, run it again, and show nothing was lost or doubled.

The first run is slowed with --rate so it is surely mid-copy when killed; pages are small so
several checkpoints exist by then. Evidence of exactly-once effect: every legacy item is in v3
once, every v3 item carries backfill's version "0" (no second write replaced a first), and the
checkpointed counts add up to the table: written (this or the killed run) + already_filled (the
killed run's last, uncheckpointed page, found filled on resume) == table size.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cutover.codec import from_ddb, to_ddb
from cutover.state import CheckpointStore

pytestmark = pytest.mark.server
USERS = 300
PAGE = 10
SEGMENTS = 3


def _cli(settings, *args: str) -> list[str]:
    exe = Path(sys.executable).with_name("cutover")
    return [
        str(exe),
        "backfill",
        "--endpoint-url",
        settings.endpoint_url,
        "--service",
        settings.service,
        "--table",
        "users",
        "--segments",
        str(SEGMENTS),
        "--workers",
        "3",
        "--page-size",
        str(PAGE),
        "--i-know-sync-is-off",
        "--quiet",
        "--json",
        *args,
    ]


def _progress(clients, settings) -> dict[str, dict]:
    return CheckpointStore(clients.dynamodb, settings.names.checkpoints_table).query(f"backfill#users#{SEGMENTS}")


def test_sigkill_mid_run_then_resume_copies_every_item_exactly_once(settings, clients):
    ddb = clients.dynamodb
    items = [
        {"userId": f"u{i:04d}", "email": f"User{i}@Example.com", "createdAt": 1_700_000_000 + i} for i in range(USERS)
    ]
    for start in range(0, USERS, 25):
        ddb.batch_write_item(
            RequestItems={
                settings.names.source_table("users"): [
                    {"PutRequest": {"Item": to_ddb(i)}} for i in items[start : start + 25]
                ]
            }
        )

    # Given a backfill running at 100 items/s (about 3 s for the table)
    proc = subprocess.Popen(_cli(settings, "--rate", "100"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # When at least 5 pages are checkpointed but the copy is not finished, it is SIGKILLed
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pages = sum(p["pages"] for p in _progress(clients, settings).values())
            if pages >= 5:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    killed = _progress(clients, settings)
    assert proc.returncode == -signal.SIGKILL
    assert not all(p["done"] for p in killed.values()), "the run finished before the kill; slow it down"
    scanned_before = sum(p["counts"]["scanned"] for p in killed.values())
    assert 0 < scanned_before < USERS

    # When the same command runs again
    resumed = subprocess.run(_cli(settings), capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    users = summary["tables"]["users"]

    # Then it resumed (did not re-scan what was checkpointed) and finished every segment
    assert summary["complete"] is True and summary["scanned_this_run"] == USERS - scanned_before
    # And the counts equal the table: each item filled exactly once across both runs
    assert users["scanned"] == USERS and users["skipped_newer"] == 0 and users["quarantined"] == 0
    assert users["written"] + users["already_filled"] == USERS
    assert users["already_filled"] <= SEGMENTS * PAGE  # at most the killed, uncheckpointed page per segment
    # And v3 holds every item once, each written by one backfill fill (version "0")
    v3 = [
        from_ddb(i) for p in ddb.get_paginator("scan").paginate(TableName=settings.names.v3_table) for i in p["Items"]
    ]
    assert len(v3) == USERS and {i["userId"] for i in v3} == {i["userId"] for i in items}
    assert {i["_version"] for i in v3} == {"0"}
    assert {i["email"] for i in v3 if i["userId"] == "u0007"} == {"user7@example.com"}
