"""`cutover flip` and `cutover status` through the CLI against the moto server."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from flag_owner import read_source, set_read_source  # tests/ is on sys.path
from shadow_world import shadow_phase_done

from cutover.clients import Clients
from cutover.clock import iso
from cutover.settings import Settings
from cutover.state import BACKFILL_RUN, FLIP, RECONCILE, CheckpointStore, ReportStore
from cutover_cli.app import main
from cutover_cli.local_backend import init_backend
from migrations.seed.errors import InvalidEmailError
from replicator.positions import PositionStore
from replicator.quarantine import QuarantineStore, entry_for

pytestmark = pytest.mark.server


def _wipe(clients, table: str) -> None:
    for page in clients.dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page.get("Items", []):
            clients.dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})


def fresh(settings, clients) -> tuple:
    """Forget every flip, reconcile, position and quarantine entry, and set the flag to legacy
    (much faster than creating a backend per test)."""
    n = settings.names
    for table in (n.reports_table, n.checkpoints_table, n.quarantine_table, n.api_table):
        _wipe(clients, table)
    clients.ssm.put_parameter(Name=n.read_source_parameter, Value="legacy", Type="String", Overwrite=True)  # the mirror
    return settings, clients


def module_backend(moto_server, prefix: str) -> tuple:
    settings = Settings(
        service=f"{prefix}{uuid.uuid4().hex[:8]}", region="us-east-1", endpoint_url=moto_server.endpoint_url
    )
    clients = Clients(settings)
    init_backend(settings, clients)
    return settings, clients


@pytest.fixture(scope="module")
def backend(moto_server):
    return module_backend(moto_server, "flip")


@pytest.fixture
def world(backend):
    return fresh(*backend)


def _cli(settings, *args: str):
    result = CliRunner().invoke(main, [*args, "--endpoint-url", settings.endpoint_url, "--service", settings.service])
    return result.exit_code, result.output


def _flag(settings, clients) -> str | None:
    """What readers obey (the flip control item), not the SSM mirror."""
    return read_source(settings, clients)


def prepare(
    settings,
    clients,
    *,
    clean=True,
    reconcile_age_h=1.0,
    lag_s: float | None = 5.0,
    quarantined=0,
    sample=None,
    sync_lag_at_start: float | None = 1.0,
    backfill_after_reconcile=False,
    backfilled: tuple[str, ...] | None = None,
    shadow=True,
) -> None:
    """Write the evidence the interlock reads, directly through the stores: a complete backfill (of
    `backfilled`, default every source, shaped as the runner records it), then a full reconcile that
    started after it while sync was caught up, per-shard sync positions, and (if the flag is on
    shadow and `shadow`) a shadow phase that already ran (tests/shadow_world.py)."""
    n = settings.names
    now = datetime.now(UTC)
    finished = now - timedelta(hours=reconcile_age_h)
    started = finished - timedelta(minutes=1)
    reports = ReportStore(clients.dynamodb, n.reports_table)
    backfill_done = started + timedelta(seconds=30) if backfill_after_reconcile else started - timedelta(minutes=10)
    ran = {role: {"segments_done": 1} for role in backfilled or settings.names.migration.roles}
    run = {"finished_at": iso(backfill_done), "complete": True, "segments": 1, "tables": ran}
    reports.record(BACKFILL_RUN, run, at=iso(backfill_done))
    reports.record(
        RECONCILE,
        {
            "started_at": iso(started),
            "finished_at": iso(finished),
            "clean": clean,
            "sample": sample,
            "report_path": None,
            "counts": {"compared": 10, "missing": 0 if clean else 2, "extra": 0, "different": 0, "quarantined": 0},
            "at_start": {"sync_lag_seconds": sync_lag_at_start},
        },
        at=iso(started),
    )
    if lag_s is not None:
        positions = PositionStore(CheckpointStore(clients.dynamodb, n.checkpoints_table))
        for source in ("users", "orders"):
            positions.save_meta(
                source, {"table": n.source_table(source), "caught_up_at": iso(now - timedelta(seconds=lag_s))}
            )
            positions.save_shard(n.source_table(source), f"shard-{source}", stream_arn="arn:test", sequence="1",
                                 closed=False, done=False, caught_up_at=now - timedelta(seconds=lag_s))  # fmt: skip
    if shadow:
        shadow_phase_done(settings, clients)
    store = QuarantineStore(clients.dynamodb, n.quarantine_table)
    for i in range(quarantined):
        store.put(
            entry_for(
                InvalidEmailError("users", f"bad{i}", "no email"),
                n.source_table("users"),
                {"userId": f"bad{i}"},
                "1",
                "backfill",
            )
        )


def test_v3_is_refused_listing_every_failed_condition(world):
    settings, clients = world
    # Given nothing: no reconcile, never synced, and an open quarantine entry
    prepare(settings, clients, quarantined=1, lag_s=None)
    ReportStore(clients.dynamodb, settings.names.reports_table).record(
        RECONCILE, {"finished_at": "x", "clean": False, "counts": {"missing": 3}}
    )
    # When flipping to v3
    code, out = _cli(settings, "flip", "v3")
    # Then it is refused (exit 1) naming each condition, and the flag is unchanged
    assert code == 1
    assert "not clean (missing=3)" in out and "no valid finished_at" in out
    assert "1 quarantined item(s) are open" in out and "never synced" in out
    assert _flag(settings, clients) == "legacy"


@pytest.mark.parametrize(
    "evidence,expected",
    [
        ({"reconcile_age_h": 30}, "older than 24 h"),
        ({"lag_s": 600}, "s, over the 60 s limit: check that `cutover sync`"),
        ({"clean": False}, "not clean (missing=2)"),
    ],
)
def test_v3_is_refused_for_a_stale_reconcile_or_high_lag(world, evidence, expected):
    settings, clients = world
    prepare(settings, clients, **evidence)
    code, out = _cli(settings, "flip", "v3")
    assert code == 1 and expected in out
    assert _flag(settings, clients) == "legacy"


def test_v3_allowed_with_evidence_then_rollback_recorded_and_shown(world):
    settings, clients = world
    # Given a clean recent reconcile, low lag, and a quarantine accepted explicitly
    prepare(settings, clients, quarantined=1)
    # When flipping to shadow, to v3 with --accept-quarantine, then back to legacy
    assert _cli(settings, "flip", "shadow")[0] == 0
    shadow_phase_done(settings, clients)  # ... and let it run
    assert _cli(settings, "flip", "v3")[0] == 1
    code, out = _cli(settings, "flip", "v3", "--accept-quarantine", "--reason", "known bad rows")
    assert (code, out.strip()) == (0, "read-source: shadow -> v3")
    assert _flag(settings, clients) == "v3"
    assert _cli(settings, "flip", "legacy")[0] == 0
    # Then the flips are recorded, newest first, and `status --json` shows them and the verdict
    flips = ReportStore(clients.dynamodb, settings.names.reports_table).history(FLIP)
    assert [(f["from"], f["to"], f["forced"]) for f in flips] == [
        ("v3", "legacy", False),
        ("shadow", "v3", False),
        ("legacy", "shadow", False),
    ]
    assert flips[1]["reason"] == "known bad rows" and flips[1]["who"]
    assert flips[1]["quarantine_accepted"] == {"count": 1, "keys": ["users#bad0"]}
    code, out = _cli(settings, "status", "--json")
    status = json.loads(out)
    assert code == 0 and status["read_source"] == "legacy" and len(status["flips"]) == 3
    assert status["quarantine_open"] == 1 and not status["flip_to_v3"]["allowed"]
    assert status["replication"]["lag_seconds"] < 60 and len(status["replication"]["positions"]) == 2


def test_force_needs_a_reason_and_is_recorded(world):
    settings, clients = world
    # Given no evidence at all
    code, out = _cli(settings, "flip", "v3", "--force")
    assert code == 2 and "--force needs --reason" in out
    # When forcing with a reason
    code, out = _cli(settings, "flip", "v3", "--force", "--reason", "incident 42: legacy table throttled")
    # Then it flips, says so, and the record carries the reason and the overridden conditions
    assert code == 0 and "FORCED past the interlock" in out
    record = ReportStore(clients.dynamodb, settings.names.reports_table).latest(FLIP)
    assert record["forced"] is True and record["reason"].startswith("incident 42")
    assert any("never synced" in f for f in record["overridden"])


def test_rollback_is_always_allowed_and_human_status_renders(world):
    settings, clients = world
    # Given reads on v3 (forced) and no evidence whatsoever
    set_read_source(settings, clients, "v3")
    # When rolling back, Then it is immediate and prints old and new
    code, out = _cli(settings, "flip", "legacy")
    assert (code, out.strip()) == (0, "read-source: v3 -> legacy")
    code, out = _cli(settings, "status")
    assert code == 0 and "legacy" in out and "refused" in out and "never synced" in out
