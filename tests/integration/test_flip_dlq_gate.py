"""Issue 19, hole 3: a batch on an on-failure queue refuses `cutover flip v3` until re-driven and repaired.

Through the CLI against the moto server, with the gate's other evidence written by `prepare`.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from flag_owner import set_read_source  # tests/ on sys.path
from test_dlq import _send_failure, _stream_range  # same directory: on sys.path
from test_flip_interlock import _cli, _flag, fresh, module_backend, prepare

from cutover.codec import to_ddb
from cutover.state import FLIP, ReportStore
from cutover_cli.app import main

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def backend(moto_server):
    return module_backend(moto_server, "dlqgate")


def _status(settings) -> dict:
    args = ["status", "--endpoint-url", settings.endpoint_url, "--service", settings.service, "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_discarded_batch_refuses_v3_until_redriven_and_repaired(backend, tmp_path, monkeypatch):
    # Given every other piece of evidence complete (lag ~0, no quarantine, no gap, clean reconcile, shadow)
    monkeypatch.chdir(tmp_path)  # the repair writes its report to the current directory
    settings, clients = fresh(*backend)
    set_read_source(settings, clients, "shadow")  # what readers obey (docs/CONTRACT.md), not the SSM mirror
    prepare(settings, clients)
    # And a legacy write whose batch the replicator's event source gave up on (its pointer on the users' queue)
    users = settings.names.source_table("users")
    clients.dynamodb.put_item(TableName=users, Item=to_ddb({"userId": "lost1", "email": "lost@x.io"}))
    url = _send_failure(clients, settings, "users", *_stream_range(clients, users))
    queue = settings.names.failure_queue("users")
    try:
        # When flipping to v3, Then it is refused naming the queue and the fix, and reads stay on shadow
        code, out = _cli(settings, "flip", "v3")
        assert code == 1, out
        assert f"on-failure queue {queue} (users) holds 1 discarded batch" in out and "cutover dlq redrive" in out
        assert _flag(settings, clients) == "shadow"
        # And `cutover status` shows each queue's depth and the same refusal
        status = _status(settings)
        assert {q["source"]: q["depth"] for q in status["failure_queues"]} == {"users": 1, "orders": 0}
        assert any(queue in f for f in status["flip_to_v3"]["failures"])

        # When the batch is re-driven and a full repair runs
        code, out = _cli(settings, "dlq", "redrive")
        assert code == 0, out
        code, out = _cli(settings, "reconcile", "--repair")
        assert code == 0, out
        # Then the flip is allowed, and its record holds the queues it checked
        code, out = _cli(settings, "flip", "v3")
        assert code == 0, out
        assert _flag(settings, clients) == "v3"
        checked = ReportStore(clients.dynamodb, settings.names.reports_table).latest(FLIP)["checked"]["evidence"]
        assert [(q["source"], q["depth"], q["counted_by"]) for q in checked["failure_queues"]] == [
            ("users", 0, "queue"),
            ("orders", 0, "queue"),
        ]
    finally:
        clients.sqs.purge_queue(QueueUrl=url)
