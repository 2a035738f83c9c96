"""The replicator Lambda and one DynamoDB event source (with its own on-failure queue) per source
role of the migration, i.e. per legacy stream.

Record age: -1 (never discard). A stream keeps records 24 h; a first deploy starts at
TRIM_HORIZON, so records up to 24 h old arrive at once, and any outage longer than a finite
MaximumRecordAge would send still-readable records to the on-failure queue as bare pointers
(useless once the stream trims them). With -1 nothing is discarded while it is still in the
stream; only what the handler REPORTS failed (ReportBatchItemFailures, bisected) is retried, at
most RETRY_ATTEMPTS times, and then goes to the failure queue. DESIGN.md explains the trade-off.
"""

from __future__ import annotations

from aws_cdk import Duration, Names
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cutover.environment import REPLICATOR_ENV
from infra.config import StageConfig
from infra.constructs.function import CutoverFunction, Placement
from infra.constructs.queues import failure_queue
from infra.constructs.refs import TableRef, construct_name
from infra.constructs.tables import grant_table, own_spec
from infra.nag import acknowledge

HANDLER = "replicator.handler.lambda_handler"
BATCH_SIZE = 100
RETRY_ATTEMPTS = 10  # with bisection, enough to isolate one poison record in a batch of 100
MAX_RECORD_AGE_SECONDS = -1  # never discard a record while it is still in the stream (module doc)
# Exactly what the replicator calls (replicator/v3_writer.py, replicator/quarantine.py): conditional
# PutItem on v3 (writes and tombstones); conditional PutItem, and UpdateItem for the writer's
# conditional quarantine paths, on quarantine. Nothing reads, deletes or batch-writes. On the legacy
# tables it only reads their streams (the event sources' grant): never a table read.
V3_ACTIONS = ("dynamodb:PutItem",)
QUARANTINE_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem")
CHECKPOINT_ACTIONS = ("dynamodb:PutItem",)


class Replicator(Construct):
    """Attributes: `function`, `failure_queues` (role -> Queue), `event_sources` (role -> event source)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        legacy: dict[str, dynamodb.ITable],
        v3: TableRef,
        quarantine: TableRef,
        checkpoints: TableRef,
        layer: lambda_.ILayerVersion,
        placement: Placement | None,
    ) -> None:
        super().__init__(scope, construct_id)
        names = config.names
        self.function = CutoverFunction(
            self,
            "Replicator",
            config=config,
            handler=HANDLER,
            env=REPLICATOR_ENV,
            layer=layer,
            timeout=Duration.minutes(2),
            memory_mb=1024,
            placement=placement,
            transforms=True,
            values={
                "V3_TABLE": v3.name,
                "QUARANTINE_TABLE": quarantine.name,
                "CHECKPOINTS_TABLE": checkpoints.name,
                "STREAM_BATCH_SIZE": str(BATCH_SIZE),
            },
        ).function
        grant_table(self.function, v3.arn, names.v3_spec(), V3_ACTIONS, indexes=False)
        grant_table(self.function, quarantine.arn, own_spec(names, "quarantine"), QUARANTINE_ACTIONS, indexes=False)
        # one conditional progress report per stream per batch (replicator.consumer_report)
        grant_table(self.function, checkpoints.arn, own_spec(names, "checkpoints"), CHECKPOINT_ACTIONS, indexes=False)
        self.failure_queues: dict[str, sqs.Queue] = {}
        self.event_sources: dict[str, sources.DynamoEventSource] = {}
        for source in config.roles:
            queue = failure_queue(
                self,
                f"{construct_name(source)}Failures",
                name=names.failure_queue(source),
                retain=config.retain,
            )
            event_source = sources.DynamoEventSource(
                legacy[source],
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=BATCH_SIZE,
                max_batching_window=Duration.seconds(1),
                bisect_batch_on_error=True,
                report_batch_item_failures=True,
                retry_attempts=RETRY_ATTEMPTS,
                parallelization_factor=config.parallelization_factor,
                on_failure=sources.SqsDlq(queue),
            )
            self.function.add_event_source(event_source)
            # CDK's max_record_age is a Duration (>= 60 s); -1 is only expressible on the L1 resource.
            mapping = self.function.node.find_child(f"DynamoDBEventSource:{Names.node_unique_id(legacy[source].node)}")
            mapping.node.default_child.add_property_override("MaximumRecordAgeInSeconds", MAX_RECORD_AGE_SECONDS)
            self.failure_queues[source] = queue
            self.event_sources[source] = event_source
        acknowledge(
            self.function,
            "AwsSolutions-IAM5[Resource::*]",
            "Only dynamodb:ListStreams (added by the stream event source) has Resource '*': the action "
            "has no resource-level permissions and returns stream ARNs, never data.",
        )
