"""The replicator Lambda and one DynamoDB event source per legacy stream."""
from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cutover.environment import REPLICATOR_ENV
from cutover.names import ORDERS, USERS
from infra.config import StageConfig
from infra.constructs.function import CutoverFunction, Placement
from infra.constructs.queues import failure_queue
from infra.constructs.refs import TableRef
from infra.constructs.tables import READ, WRITE, grant_table, own_spec
from infra.nag import acknowledge

HANDLER = "replicator.handler.lambda_handler"
BATCH_SIZE = 100
RETRY_ATTEMPTS = 10          # with bisection, enough to isolate one poison record in a batch of 100
MAX_RECORD_AGE = Duration.hours(6)  # leaves 18 h of the stream's 24 h to re-drive from the queue


class Replicator(Construct):
    """Attributes: `function`, `failure_queues` (source -> Queue), `event_sources`."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig,
                 legacy: dict[str, dynamodb.ITable], v3: TableRef, quarantine: TableRef,
                 layer: lambda_.ILayerVersion, placement: Placement | None) -> None:
        super().__init__(scope, construct_id)
        names = config.names
        self.function = CutoverFunction(
            self, "Replicator", config=config, handler=HANDLER, env=REPLICATOR_ENV, layer=layer,
            timeout=Duration.minutes(2), memory_mb=1024, placement=placement,
            values={"USERS_TABLE": config.legacy_users_table, "ORDERS_TABLE": config.legacy_orders_table,
                    "V3_TABLE": v3.name, "QUARANTINE_TABLE": quarantine.name},
        ).function
        grant_table(self.function, v3.arn, names.v3_spec(), READ + WRITE, indexes=False)
        grant_table(self.function, quarantine.arn, own_spec(names, "quarantine"), READ + WRITE)
        self.failure_queues: dict[str, sqs.Queue] = {}
        self.event_sources: dict[str, sources.DynamoEventSource] = {}
        for source in (USERS, ORDERS):
            queue = failure_queue(self, f"{source.title()}Failures", name=f"{names.prefix}-cutover-{source}-stream-failures",
                                  retain=config.retain)
            event_source = sources.DynamoEventSource(
                legacy[source],
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=BATCH_SIZE,
                max_batching_window=Duration.seconds(1),
                bisect_batch_on_error=True,
                report_batch_item_failures=True,
                retry_attempts=RETRY_ATTEMPTS,
                max_record_age=MAX_RECORD_AGE,
                parallelization_factor=config.parallelization_factor,
                on_failure=sources.SqsDlq(queue),
            )
            self.function.add_event_source(event_source)
            self.failure_queues[source] = queue
            self.event_sources[source] = event_source
        acknowledge(self.function, "AwsSolutions-IAM5[Resource::*]",
                    "Only dynamodb:ListStreams (added by the stream event source) has Resource '*': the action "
                    "has no resource-level permissions and returns stream ARNs, never data.")
