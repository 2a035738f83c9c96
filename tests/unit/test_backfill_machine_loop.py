"""The backfill state machine's loop, played in-process: the input -> `Plan segments` -> one map item
per segment (table, segments, run_id, rate, segment) -> the segment Lambda invoked until it says
done, with a timeout in the middle of a segment. What the definition says is asserted from the
template in tests/infrastructure/test_replication_stack.py."""

from __future__ import annotations

from cutover.codec import to_ddb
from cutover.names import Names
from tests.unit.test_backfill_lambda import FakeContext, _env


def test_each_map_item_loops_until_done_resuming_after_a_mid_segment_timeout(monkeypatch, aws_memory):
    import backfill.segment_lambda as lam

    settings, clients = aws_memory
    names: Names = settings.names
    for i in range(40):  # 60 KB each: several 1 MB Scan pages per segment
        item = {"orderId": f"o{i}", "userId": "u", "pad": "x" * 60_000}
        clients.dynamodb.put_item(TableName=names.source_table("orders"), Item=to_ddb(item))
    for key, value in _env(names).items():
        monkeypatch.setenv(key, value)
    lam.cold_start.reset()
    run = {"table": "orders", "segments": 2, "run_id": "sfn-7", "rate": 1000.0}  # the execution's input
    # Given segment 0's first invocation runs out of time after its first page
    contexts = {(0, 1): FakeContext(61_000, 59_000)}
    rounds: dict[int, int] = {}
    results = []
    # When every map item (as `Plan segments` and the ItemSelector build it) is looped until done
    for segment in range(run["segments"]):
        item = {**run, "segment": segment}
        while True:
            rounds[segment] = rounds.get(segment, 0) + 1
            out = lam.lambda_handler(item, contexts.get((segment, rounds[segment]), FakeContext(900_000)))
            if out["done"]:
                results.append(out)
                break
    lam.cold_start.reset()
    # Then segment 0 took a second invocation that resumed from its checkpoint, and every item is in v3 once
    assert rounds[0] == 2 and rounds[1] == 1
    assert sum(r["counts"]["written"] for r in results) == 40
    assert all(r["rate"] == 1000.0 and r["run_id"] == "sfn-7" for r in results)
    pages = clients.dynamodb.get_paginator("scan").paginate(TableName=names.v3_table, Select="COUNT")
    assert sum(page["Count"] for page in pages) == 40
