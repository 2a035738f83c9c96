"""What the backfill and reconcile state machines share: a segment Lambda looped until it says
done, and a logged, traced STANDARD state machine with its cdk-nag acknowledgements.

Why a loop of invocations and not one long task: a Lambda stops at 15 minutes, a table segment
can take hours. Each segment handler checkpoints after every page and returns {"done": false}
about a minute before its timeout; the Choice state invokes it again and it resumes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.config import StageConfig
from infra.nag import acknowledge, arn_ref, env_text, logical_id

LAMBDA_TRANSIENT_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
]


def invoke(
    scope: Construct, construct_id: str, function: lambda_.IFunction, payload: Mapping[str, Any], result_path: str
) -> tasks.LambdaInvoke:
    """A Lambda task with bounded retries: throttles and service errors, then a few task failures."""
    task = tasks.LambdaInvoke(
        scope,
        construct_id,
        lambda_function=function,
        payload=sfn.TaskInput.from_object(dict(payload)),
        payload_response_only=True,
        retry_on_service_exceptions=False,
        result_path=result_path,
    )
    task.add_retry(errors=LAMBDA_TRANSIENT_ERRORS, interval=Duration.seconds(2), max_attempts=6, backoff_rate=2)
    task.add_retry(errors=["States.TaskFailed"], interval=Duration.seconds(10), max_attempts=3, backoff_rate=2)
    return task


def segment_loop(
    scope: Construct, function: lambda_.IFunction, payload: Mapping[str, Any], *, name: str = "Run segment"
) -> sfn.IChainable:
    """Invoke `function` with `payload` until its result says {"done": true}."""
    task = invoke(scope, name, function, payload, "$.result")
    done = sfn.Choice(scope, "Segment done?")
    done.when(sfn.Condition.boolean_equals("$.result.done", True), sfn.Succeed(scope, "Segment finished")).otherwise(
        task
    )
    return task.next(done)


def logged_machine(
    scope: Construct,
    config: StageConfig,
    name: str,
    chain: sfn.IChainable,
    functions: tuple[lambda_.IFunction, ...],
) -> sfn.StateMachine:
    """A traced STANDARD state machine logging to its own group (RETAIN outside dev)."""
    logs_group = logs.LogGroup(
        scope,
        "Logs",
        retention=logs.RetentionDays.THREE_MONTHS,
        removal_policy=RemovalPolicy.RETAIN if config.retain else RemovalPolicy.DESTROY,
    )
    machine = sfn.StateMachine(
        scope,
        "StateMachine",
        state_machine_name=f"{config.names.prefix}-cutover-{name}",
        definition_body=sfn.DefinitionBody.from_chainable(chain),
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=logs_group, level=sfn.LogLevel.ALL, include_execution_data=False),
    )
    for function in functions:
        acknowledge(
            machine,
            f"AwsSolutions-IAM5[Resource::{arn_ref(function)}:*]",
            "Step Functions may invoke the function's versions (the CDK LambdaInvoke grant).",
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
