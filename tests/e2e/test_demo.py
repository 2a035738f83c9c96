"""`cutover demo --quick` end to end on its own embedded backend (about 15 s)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cutover_cli.app import main
from cutover_cli.demo.seed import BATCH, batch_write
from cutover_cli.local_backend import free_port

pytestmark = pytest.mark.server


def test_quick_demo_syncs_live_writes_and_v3_matches():
    # Given no endpoint (the demo starts its own)
    result = CliRunner(env={"CUTOVER_ENDPOINT_URL": None}).invoke(main, ["demo", "--quick", "--json"])
    # Then it completes, exit 0, and its summary is truthful
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    rows = {(r["step"], r["what"]): r["value"] for r in report["rows"]}
    assert report["complete"] is True
    assert rows[("seed", "legacy items written (BatchWriteItem)")] == "263"
    assert rows[("seed", "of which with binaries and sets (B, BS, NS, SS)")] == "5"
    legacy_matching, legacy_total = rows[("v3", "legacy items matching transform(item)")].split(" of ")
    assert legacy_matching == legacy_total
    assert int(rows[("v3", "quarantined (open entries)")]) >= 8  # the seeded bad items, plus any the writer broke
    assert (
        int(rows[("live sync", "stream records applied")].replace(",", ""))
        >= int(rows[("live sync", "legacy writes during the run")]) - 5
    )
    # And v3's live items are told apart by who wrote them: backfill copied most of the history,
    # replication only what changed during the run (never all of it labelled "replicated")
    live = int(rows[("v3", "live items")].replace(",", ""))
    split = [
        int(n.replace(",", "")) for n in rows[("v3", "  last written by backfill / replication / repair")].split(" / ")
    ]
    assert sum(split) == live and split[0] > split[1] > 0, rows
    assert not any("replicated (live)" in what for _, what in rows)


def test_demo_help_names_every_stage_it_runs():
    result = CliRunner().invoke(main, ["demo", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split()).lower()
    for stage in ("seed", "sync", "backfill", "reconcile", "shadow", "flip to v3", "rollback"):
        assert stage in text, (stage, result.output)
    listed = CliRunner().invoke(main, ["--help"]).output
    demo_line = next(line for line in listed.splitlines() if line.strip().startswith("demo "))
    assert "backfill" in demo_line and "reconcile" in demo_line and "roll back" in demo_line, demo_line


def test_demo_against_an_unreachable_endpoint_fails_in_one_line():
    result = CliRunner().invoke(main, ["demo", "--quick", "--endpoint-url", f"http://127.0.0.1:{free_port()}"])
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "demo step 'init' failed" in errors[0] and "Traceback" not in result.output


class RecordingClient:
    """Accepts at most 25 requests per call (like AWS) and leaves some unprocessed at first."""

    def __init__(self):
        self.calls, self.stored = [], []

    def batch_write_item(self, RequestItems):
        ((table, requests),) = RequestItems.items()
        assert len(requests) <= BATCH
        self.calls.append(len(requests))
        keep, unprocessed = (requests, []) if len(self.calls) % 2 == 0 else (requests[:-3], requests[-3:])
        self.stored += keep
        return {"UnprocessedItems": {table: unprocessed} if unprocessed else {}}


def test_seed_batches_stay_within_25_and_retry_unprocessed_items():
    # Given a backend that leaves 3 items unprocessed on every other call
    client = RecordingClient()
    # When 60 items are batch-written
    written = batch_write(client, "t", ({"userId": f"u{i}"} for i in range(60)))
    # Then every item is stored exactly once and no call exceeded AWS's limit
    assert written == 60 and len(client.stored) == 60 and max(client.calls) == 25
    assert sorted(r["PutRequest"]["Item"]["userId"]["S"] for r in client.stored) == sorted(f"u{i}" for i in range(60))
