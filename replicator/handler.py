"""The replicator Lambda: a thin Powertools adapter over `replicator.engine.Replicator`.

Powertools' BatchProcessor handles one record at a time, but per-key order with keys in
parallel needs the whole batch first. So the Replicator applies the batch, then the
BatchProcessor walks the records and its record handler re-raises each failed record's stored
error; Powertools builds `batchItemFailures` exactly as for any other handler.

Config and clients are built once per container, at the first invocation (cold start), never at
import, so a broken environment is reported as one ConfigError naming every bad variable.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cutover.coldstart import ColdStart
from cutover.environment import REPLICATOR_ENV
from replicator.batch import BatchResult
from replicator.engine import Replicator, ReplicatorConfig
from replicator.record_apply import RecordOutcome
from replicator.stream_record import record_id

__all__ = ["ReplicatorConfig", "Replicator", "lambda_handler"]

METRICS_NAMESPACE = "cutover"
_OUTCOME_METRICS = {
    RecordOutcome.APPLIED: "RecordsApplied",
    RecordOutcome.SKIPPED: "RecordsSkipped",
    RecordOutcome.QUARANTINED: "RecordsQuarantined",
    RecordOutcome.FAILED: "RecordsFailed",
}

logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)
# All-failed batches are reported like any other (every record in batchItemFailures) instead of
# raising, so the response always matches `Replicator.handle`.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
cold_start: ColdStart[Replicator] = ColdStart(
    REPLICATOR_ENV, lambda env, clients: Replicator(ReplicatorConfig.from_env(env), clients.dynamodb, logger=logger)
)


def is_ttl_delete(record: dict[str, Any]) -> bool:
    """A delete DynamoDB's TTL made, not an application (it tombstones like any other delete).

    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html
    """
    who = record.get("userIdentity") or {}
    return (
        record.get("eventName") == "REMOVE"
        and who.get("type") == "Service"
        and who.get("principalId") == "dynamodb.amazonaws.com"
    )


def _record_metrics(replicator: Replicator, batch: BatchResult, records: list[dict[str, Any]]) -> None:
    for outcome, name in _OUTCOME_METRICS.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=batch.count(outcome))
    metrics.add_metric(name="TtlDeletes", unit=MetricUnit.Count, value=sum(map(is_ttl_delete, records)))
    lag = replicator.lag_ms(batch)
    if lag is not None:
        metrics.add_metric(name="ReplicationLagMs", unit=MetricUnit.Milliseconds, value=lag)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    replicator = cold_start.get()
    records = event.get("Records") or []
    batch = replicator.process(records)
    _record_metrics(replicator, batch, records)
    errors = batch.errors_by_id()

    def record_handler(record: DynamoDBRecord) -> None:
        error = errors.get(record_id(record.raw_event))
        if error is not None:
            raise error

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
