"""The replicator Lambda: a thin Powertools adapter over `replicator.engine.Replicator`.

Powertools' BatchProcessor handles one record at a time, but per-key order with keys in
parallel needs the whole batch first. So the Replicator applies the batch, then the
BatchProcessor walks the records and its record handler re-raises each failed record's stored
error; Powertools builds `batchItemFailures` exactly as for any other handler.

Config and clients are built once per container, at the first invocation (cold start), never at
import, so a broken environment is reported as one ConfigError naming every bad variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cutover import metrics as m
from cutover import transform_secrets
from cutover.clients import Clients
from cutover.coldstart import ColdStart
from cutover.environment import REPLICATOR_ENV
from cutover.state import CheckpointStore
from replicator import consumer_report
from replicator.batch import BatchResult
from replicator.engine import Replicator, ReplicatorConfig
from replicator.positions import PositionStore
from replicator.record_apply import RecordOutcome
from replicator.stream_record import record_id

__all__ = ["ReplicatorConfig", "Replicator", "lambda_handler"]

METRICS_NAMESPACE = m.NAMESPACE
_OUTCOME_METRICS = {
    RecordOutcome.APPLIED: m.RECORDS_APPLIED,
    RecordOutcome.SKIPPED: m.RECORDS_SKIPPED,
    RecordOutcome.QUARANTINED: m.RECORDS_QUARANTINED,
    RecordOutcome.FAILED: m.RECORDS_FAILED,
}

logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)
# All-failed batches are reported like any other (every record in batchItemFailures) instead of
# raising, so the response always matches `Replicator.handle`.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


@dataclass(frozen=True)
class LambdaRuntime:
    """What one container keeps: the engine, where it reports progress, the event source's batch size."""

    replicator: Replicator
    positions: PositionStore
    batch_size: int

    def close(self) -> None:
        self.replicator.close()


def _build(env: dict[str, str], clients: Clients) -> LambdaRuntime:
    config = ReplicatorConfig.from_env(env)
    transform_secrets.bind_clients(config.migration, clients)
    consumer = f"lambda:{os.environ.get('AWS_LAMBDA_FUNCTION_NAME', env['POWERTOOLS_SERVICE_NAME'])}"
    store = CheckpointStore(clients.dynamodb, env["CHECKPOINTS_TABLE"])
    positions = PositionStore(store, consumer=consumer, tables=dict(config.source_tables))
    return LambdaRuntime(Replicator(config, clients.dynamodb, logger=logger), positions, int(env["STREAM_BATCH_SIZE"]))


cold_start: ColdStart[LambdaRuntime] = ColdStart(REPLICATOR_ENV, _build)


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
    metrics.add_metric(name=m.TTL_DELETES, unit=MetricUnit.Count, value=sum(map(is_ttl_delete, records)))
    lag = replicator.lag_ms(batch)
    if lag is not None:
        metrics.add_metric(name=m.REPLICATION_LAG_MS, unit=MetricUnit.Milliseconds, value=lag)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    rt = cold_start.get()
    records = event.get("Records") or []
    batch = rt.replicator.process(records)
    _record_metrics(rt.replicator, batch, records)
    tables = set(rt.replicator.config.sources)
    consumer_report.report(rt.positions, records, batch, batch_size=rt.batch_size, tables=tables)
    errors = batch.errors_by_id()

    def record_handler(record: DynamoDBRecord) -> None:
        error = errors.get(record_id(record.raw_event))
        if error is not None:
            raise error

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
