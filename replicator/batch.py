"""Run one batch of stream records: per-key order, different keys concurrently.

Records for the same source item (same table, same Keys) touch the same v3 keys, so they are
applied one after another in stream order. Different source items never share a target key (the
migration definition promises it, and `cutover check` proves it), so their groups run in parallel: on AWS every
conditional write is a network round trip, and one-at-a-time could not keep up with a busy table.

Once a record of a group fails, the later records of that group are not applied (they are
reported failed too): Lambda retries from the first failure, and applying a later record first
would be harmless for v3 (version guard) but would make the failure report lie.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from replicator.record_apply import RecordOutcome, RecordResult
from replicator.stream_record import record_id, table_hint

ApplyFn = Callable[[Mapping[str, Any]], RecordResult]


class BlockedByEarlierFailure(RuntimeError):
    """Not applied because an earlier record for the same source item failed in this batch."""


def group_key(record: Mapping[str, Any]) -> str:
    """Source table + the record's Keys: records with equal group keys must stay in order."""
    dynamodb = record.get("dynamodb")
    keys = dynamodb.get("Keys") if isinstance(dynamodb, Mapping) else None
    return f"{table_hint(record)}|{json.dumps(keys, sort_keys=True, default=str)}"


@dataclass(frozen=True)
class BatchResult:
    """Per-record results, in the order the records arrived."""

    records: Sequence[Mapping[str, Any]]
    results: Sequence[RecordResult]

    def failures(self) -> list[dict[str, str]]:
        """Lambda's partial-batch response items (itemIdentifier = SequenceNumber)."""
        return [
            {"itemIdentifier": record_id(rec)[1]}
            for rec, res in zip(self.records, self.results, strict=True)
            if res.outcome is RecordOutcome.FAILED
        ]

    def errors_by_id(self) -> dict[tuple[str, str], BaseException]:
        """(eventSourceARN, SequenceNumber) -> the error of each failed record."""
        out: dict[tuple[str, str], BaseException] = {}
        for rec, res in zip(self.records, self.results, strict=True):
            if res.outcome is RecordOutcome.FAILED and res.error is not None:
                out.setdefault(record_id(rec), res.error)
        return out

    def count(self, outcome: RecordOutcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    def max_lag_ms(self, now: float) -> float | None:
        """Age (ms) of the oldest record in the batch whose creation time is known."""
        times = [r.parsed.created_at for r in self.results if r.parsed is not None and r.parsed.created_at is not None]
        return max(0.0, (now - min(times)) * 1000.0) if times else None


def run_batch(records: Sequence[Mapping[str, Any]], apply: ApplyFn, pool: Executor | None = None) -> BatchResult:
    """Apply `records` with `apply` (which must not raise), grouped by source item."""
    groups: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        groups.setdefault(group_key(record), []).append(index)
    results: list[RecordResult | None] = [None] * len(records)

    def run_group(indexes: list[int]) -> None:
        for position, index in enumerate(indexes):
            try:
                result = apply(records[index])
            except Exception as exc:  # noqa: BLE001 - a bug in apply must fail the record, not the batch
                result = RecordResult(RecordOutcome.FAILED, error=exc)
            results[index] = result
            if result.outcome is RecordOutcome.FAILED:
                failed_seq = record_id(records[index])[1]
                for later in indexes[position + 1 :]:
                    blocked = BlockedByEarlierFailure(
                        f"not applied: record {failed_seq} for the same source item failed first; Lambda "
                        f"retries from there"
                    )
                    results[later] = RecordResult(RecordOutcome.FAILED, error=blocked)
                return

    if pool is None or len(groups) <= 1:
        for indexes in groups.values():
            run_group(indexes)
    else:
        for future in [pool.submit(run_group, indexes) for indexes in groups.values()]:
            future.result()
    done = [r for r in results if r is not None]
    assert len(done) == len(records), "every record gets exactly one result"
    return BatchResult(records, done)
