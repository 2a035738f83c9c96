"""Distributed backfill: a Step Functions Map over segments, each looping its Lambda until done.

Why a DISTRIBUTED Map: an inline Map keeps every iteration in the parent execution's history,
capped at 25,000 events. One round of a segment (invoke + choice) costs ~5 events and a large
table needs many rounds per segment (each Lambda stops well before its 15-minute timeout), so
64 segments x 80 rounds would already hit the cap and fail the run. A distributed Map gives each
segment its own child execution and history, and MaxConcurrency bounds the parallel Lambdas
(and so the write load on v3). Input: {"table": "users"|"orders", "segments": N, "run_id": "..."}.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from cutover.environment import BACKFILL_SEGMENT_ENV
from infra.config import StageConfig
from infra.constructs.function import CutoverFunction, Placement
from infra.constructs.refs import TableRef
from infra.constructs.tables import READ, SCAN, WRITE, grant_table, own_spec
from infra.nag import acknowledge, arn_ref, env_text, logical_id

HANDLER = "backfill.segment_lambda.lambda_handler"
# Exactly what a segment calls on v3 (backfill/segment.py, replicator/v3_writer.py): GetItem of the
# current `_version`, then a PutItem conditional on it. No Update/Delete/BatchWrite, ever.
V3_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem")
QUARANTINE_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem")  # conditional entry writes
LAMBDA_TRANSIENT_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
]


class Backfill(Construct):
    """Attributes: `function` (segment Lambda), `state_machine`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        legacy: dict[str, str],
        tables: dict[str, TableRef],
        layer: lambda_.ILayerVersion,
        placement: Placement | None,
    ) -> None:
        super().__init__(scope, construct_id)
        names = config.names
        self.function = CutoverFunction(
            self,
            "Segment",
            config=config,
            handler=HANDLER,
            env=BACKFILL_SEGMENT_ENV,
            layer=layer,
            timeout=Duration.minutes(15),
            memory_mb=1024,
            placement=placement,
            values={
                "USERS_TABLE": config.legacy_users_table,
                "ORDERS_TABLE": config.legacy_orders_table,
                **{f"{role.upper()}_TABLE": ref.name for role, ref in tables.items()},
            },
        ).function
        grant_table(self.function, legacy["users"], names.users_spec(), SCAN, indexes=False)  # backfill/scan.py only
        grant_table(self.function, legacy["orders"], names.orders_spec(), SCAN, indexes=False)
        grant_table(self.function, tables["v3"].arn, names.v3_spec(), V3_ACTIONS, indexes=False)
        grant_table(
            self.function, tables["quarantine"].arn, own_spec(names, "quarantine"), QUARANTINE_ACTIONS, indexes=False
        )
        for role in ("checkpoints", "reports"):  # cutover's bookkeeping (run identity is being reworked)
            grant_table(self.function, tables[role].arn, own_spec(names, role), READ + WRITE)
        self.state_machine = self._state_machine(config)

    def _state_machine(self, config: StageConfig) -> sfn.StateMachine:
        invoke = tasks.LambdaInvoke(
            self,
            "Run segment",
            lambda_function=self.function,
            payload=sfn.TaskInput.from_object(
                {
                    "table.$": "$.table",
                    "segment.$": "$.segment",
                    "segments.$": "$.segments",
                    "run_id.$": "$.run_id",
                }
            ),
            payload_response_only=True,
            retry_on_service_exceptions=False,
            result_path="$.result",
        )
        invoke.add_retry(errors=LAMBDA_TRANSIENT_ERRORS, interval=Duration.seconds(2), max_attempts=6, backoff_rate=2)
        invoke.add_retry(errors=["States.TaskFailed"], interval=Duration.seconds(10), max_attempts=3, backoff_rate=2)
        done = sfn.Choice(self, "Segment done?")
        loop = done.when(sfn.Condition.boolean_equals("$.result.done", True), sfn.Succeed(self, "Segment finished"))
        loop.otherwise(invoke)
        segment_map = sfn.DistributedMap(
            self,
            "Segments",
            items_path="$.segment_ids",
            max_concurrency=config.backfill_max_concurrency,
            item_selector={
                "table.$": "$.table",
                "segments.$": "$.segments",
                "run_id.$": "$.run_id",
                "segment.$": "$$.Map.Item.Value",
            },
            map_execution_type=sfn.StateMachineType.STANDARD,
            result_path=sfn.JsonPath.DISCARD,
        )
        segment_map.item_processor(invoke.next(done))
        plan = sfn.Pass(
            self,
            "Plan segments",
            parameters={
                "table.$": "$.table",
                "segments.$": "$.segments",
                "run_id.$": "$.run_id",
                "segment_ids.$": "States.ArrayRange(0, States.MathAdd($.segments, -1), 1)",
            },
        )
        logs_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays.THREE_MONTHS,
            removal_policy=RemovalPolicy.RETAIN if config.retain else RemovalPolicy.DESTROY,
        )
        machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=f"{config.names.prefix}-cutover-backfill",
            definition_body=sfn.DefinitionBody.from_chainable(plan.next(segment_map)),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=logs_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        acknowledge(
            machine,
            f"AwsSolutions-IAM5[Resource::{arn_ref(self.function)}:*]",
            "Step Functions may invoke the segment function's versions (the CDK LambdaInvoke grant).",
        )
        region, account = env_text(machine)
        executions = (
            f"arn:<AWS::Partition>:states:{region}:{account}:execution:"
            '{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"%s"}]}]}' % logical_id(machine)
        )
        acknowledge(
            machine,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing and CloudWatch Logs delivery actions have no resource-level permissions.",
        )
        for suffix in (":*", "/*:*"):
            acknowledge(
                machine,
                f"AwsSolutions-IAM5[Resource::{executions}{suffix}]",
                "The distributed Map must describe/stop its own child executions, whose ids are generated.",
            )
        return machine
