"""SIGKILL a running `cutover backfill` process, run it again, and show nothing was lost or doubled,
for the seed's users and for the catalog's reviews (a composite source key, a hashed field).

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
from dataclasses import replace
from pathlib import Path

import pytest

from cutover.codec import from_ddb, to_ddb
from cutover.migration import Secrets
from cutover.state import CheckpointStore
from cutover_cli.local_backend import init_backend
from migrations.catalog import MIGRATION as CATALOG

pytestmark = pytest.mark.server
USERS = 300
PAGE = 10
SEGMENTS = 3


def _cli(settings, *args: str, table: str = "users") -> list[str]:
    exe = Path(sys.executable).with_name("cutover")
    migration = ["--migration", settings.migration] if settings.migration else []
    return [
        str(exe),
        "backfill",
        "--endpoint-url",
        settings.endpoint_url,
        "--service",
        settings.service,
        "--table",
        table,
        *migration,
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


def _progress(clients, settings, table: str = "users") -> dict[str, dict]:
    return CheckpointStore(clients.dynamodb, settings.names.checkpoints_table).query(f"backfill#{table}#{SEGMENTS}")


def _kill_mid_run(clients, settings, table: str) -> dict[str, dict]:
    """Start a slowed backfill of `table`, SIGKILL it once 5 pages are checkpointed; its progress."""
    proc = subprocess.Popen(
        _cli(settings, "--rate", "100", table=table), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if sum(p["pages"] for p in _progress(clients, settings, table).values()) >= 5:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    killed = _progress(clients, settings, table)
    assert not all(p["done"] for p in killed.values()), "the run finished before the kill; slow it down"
    return killed


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
    # When at least 5 pages are checkpointed but the copy is not finished, it is SIGKILLed
    killed = _kill_mid_run(clients, settings, "users")
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


def test_sigkill_mid_run_then_resume_copies_every_composite_keyed_review_exactly_once(settings, clients):
    # Given the catalog migration (issue 18): reviews keyed by (productId, reviewId), hashed e-mails
    catalog = replace(settings, migration="migrations.catalog:MIGRATION")
    init_backend(catalog)
    names, ddb = catalog.names, clients.dynamodb
    reviews = [
        {"productId": f"p{i % 7}", "reviewId": f"r{i:04d}", "status": "PUBLISHED", "rating": 1 + i % 5,
         "reviewerEmail": f"R{i}@Example.com"}
        for i in range(USERS)
    ]  # fmt: skip
    for start in range(0, USERS, 25):
        ddb.batch_write_item(
            RequestItems={
                names.source_table("reviews"): [
                    {"PutRequest": {"Item": to_ddb(r)}} for r in reviews[start : start + 25]
                ]
            }
        )
    # When a backfill of reviews is SIGKILLed mid-copy and the same command runs again
    killed = _kill_mid_run(clients, catalog, "reviews")
    scanned_before = sum(p["counts"]["scanned"] for p in killed.values())
    assert 0 < scanned_before < USERS
    resumed = subprocess.run(_cli(catalog, table="reviews"), capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    counts = summary["tables"]["reviews"]
    # Then it resumed where the checkpoints were, and each review was filled exactly once
    assert summary["complete"] is True and summary["scanned_this_run"] == USERS - scanned_before
    assert counts["scanned"] == USERS and counts["quarantined"] == 0
    assert counts["written"] + counts["already_filled"] == USERS and counts["already_filled"] <= SEGMENTS * PAGE
    # And the target holds exactly transform(review) for each, written by one backfill fill
    v3 = [from_ddb(i) for p in ddb.get_paginator("scan").paginate(TableName=names.v3_table) for i in p["Items"]]
    assert len(v3) == USERS and {i["_version"] for i in v3} == {"0"}
    secrets = Secrets({"reviewer-key": CATALOG.secret("reviewer-key").test_value})  # local runs: the test value
    expected = {(t["pk"], t["sk"]): t for r in reviews for t in CATALOG.transform("reviews", r, secrets)}
    assert {(i["pk"], i["sk"]): {k: v for k, v in i.items() if not k.startswith("_")} for i in v3} == expected
