"""run_batch: per-key order, keys in parallel, fail-stop inside a key (replicator.batch)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from replicator.batch import BlockedByEarlierFailure, group_key, run_batch
from replicator.record_apply import RecordOutcome, RecordResult

# fixed-date: the label only makes versions these records compare among themselves
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/users/stream/2026-01-01T00:00:00"


def rec(key: str, seq: int) -> dict:
    return {
        "eventSourceARN": ARN,
        "eventName": "MODIFY",
        "dynamodb": {"Keys": {"userId": {"S": key}}, "SequenceNumber": str(seq)},
    }


@pytest.fixture
def pool():
    with ThreadPoolExecutor(max_workers=8) as executor:
        yield executor


def test_same_key_in_stream_order_different_keys_concurrently(pool):
    # Given 5 keys with 6 records each, interleaved, and an apply that sleeps a little
    records = [rec(f"k{k}", 100 + i * 5 + k) for i in range(6) for k in range(5)]
    applied: dict[str, list[int]] = {}
    active, peak, lock = [0], [0], threading.Lock()

    def apply(record):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.005)
        with lock:
            active[0] -= 1
            applied.setdefault(record["dynamodb"]["Keys"]["userId"]["S"], []).append(
                int(record["dynamodb"]["SequenceNumber"])
            )
        return RecordResult(RecordOutcome.APPLIED)

    # When run on a pool
    batch = run_batch(records, apply, pool)
    # Then each key saw its records in stream order, and keys overlapped in time
    assert all(seqs == sorted(seqs) and len(seqs) == 6 for seqs in applied.values())
    assert peak[0] > 1
    assert batch.failures() == [] and batch.count(RecordOutcome.APPLIED) == 30


def test_failure_blocks_later_records_of_that_key_only(pool):
    # Given key "hot" whose second record fails
    records = [rec("hot", 1), rec("cold", 2), rec("hot", 3), rec("hot", 4), rec("cold", 5)]
    boom = RuntimeError("throttled")

    def apply(record):
        if record["dynamodb"]["SequenceNumber"] == "3":
            return RecordResult(RecordOutcome.FAILED, error=boom)
        return RecordResult(RecordOutcome.APPLIED)

    # When run
    batch = run_batch(records, apply, pool)
    # Then the failed record and the later one of the same key are reported, in record order
    assert batch.failures() == [{"itemIdentifier": "3"}, {"itemIdentifier": "4"}]
    assert [r.outcome for r in batch.results] == [
        RecordOutcome.APPLIED,
        RecordOutcome.APPLIED,
        RecordOutcome.FAILED,
        RecordOutcome.FAILED,
        RecordOutcome.APPLIED,
    ]
    assert isinstance(batch.results[3].error, BlockedByEarlierFailure)
    errors = batch.errors_by_id()
    assert errors[(ARN, "3")] is boom and set(errors) == {(ARN, "3"), (ARN, "4")}


def test_an_apply_that_raises_fails_only_its_record():
    # Given an apply function with a bug for one record (no pool: sequential path)
    def apply(record):
        if record["dynamodb"]["SequenceNumber"] == "2":
            raise KeyError("bug")
        return RecordResult(RecordOutcome.SKIPPED)

    batch = run_batch([rec("a", 1), rec("b", 2), rec("c", 3)], apply)
    assert batch.failures() == [{"itemIdentifier": "2"}]
    assert isinstance(batch.results[1].error, KeyError)


def test_group_key_separates_tables_and_keys():
    other = dict(rec("a", 1), eventSourceARN=ARN.replace("table/users", "table/orders"))
    assert group_key(rec("a", 1)) == group_key(rec("a", 9))
    assert group_key(rec("a", 1)) != group_key(rec("b", 1))
    assert group_key(rec("a", 1)) != group_key(other)


def test_empty_batch():
    assert run_batch([], lambda r: RecordResult(RecordOutcome.APPLIED)).failures() == []
