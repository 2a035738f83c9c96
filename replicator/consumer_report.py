"""What the deployed Lambda tells the rest of cutover after each batch: how far it has applied.

`cutover status`, backfill's "has replication run?" check and the flip gate read stream progress
from one store (`replicator.positions`), whichever consumer wrote it. `cutover sync` writes per
shard; the Lambda cannot (its events carry no shard id), so it reports per stream: the last record
of the batch applied without a failure before it (Lambda retries from the first failure), that
record's creation time, and, when the batch was not full, that the stream had nothing more to give
at that moment (caught up). One small conditional write per stream per invocation.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from replicator.batch import BatchResult
from replicator.positions import PositionStore
from replicator.record_apply import RecordOutcome
from replicator.stream_record import creation_seconds, table_of_arn


def applied_through(records: Sequence[Mapping[str, Any]], batch: BatchResult) -> dict[str, Mapping[str, Any]]:
    """Per stream ARN, the last record applied with no failure before it in the batch."""
    out: dict[str, Mapping[str, Any]] = {}
    blocked: set[str] = set()
    for record, result in zip(records, batch.results, strict=True):
        arn = str(record.get("eventSourceARN", ""))
        if arn in blocked:
            continue
        if result.outcome is RecordOutcome.FAILED:
            blocked.add(arn)
        else:
            out[arn] = record
    return out


def report(
    store: PositionStore,
    records: Sequence[Mapping[str, Any]],
    batch: BatchResult,
    *,
    batch_size: int,
    tables: Collection[str],
) -> int:
    """Record the batch's progress for the legacy `tables`; returns how many reports were written."""
    written = 0
    full = len(records) >= batch_size
    for arn, record in applied_through(records, batch).items():
        try:
            if table_of_arn(arn) not in tables:
                continue
        except ValueError:
            continue  # not a stream of ours: its records were quarantined as unparseable
        body = record.get("dynamodb") or {}
        seconds = creation_seconds(body.get("ApproximateCreationDateTime"))
        written += store.record_consumer(
            table_of_arn(arn),
            stream_arn=arn,
            sequence=str(body.get("SequenceNumber", "")),
            applied_created_at=None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC),
            caught_up=not full and arn not in _failed_arns(records, batch),
        )
    return written


def _failed_arns(records: Sequence[Mapping[str, Any]], batch: BatchResult) -> set[str]:
    return {
        str(r.get("eventSourceARN", ""))
        for r, res in zip(records, batch.results, strict=True)
        if res.outcome is RecordOutcome.FAILED
    }
