"""What the backfill and reconcile state machines share: a segment Lambda looped until it says
done, and a logged, traced STANDARD state machine with its cdk-nag acknowledgements.

Why a loop of invocations and not one long task: a Lambda stops at 15 minutes, a table segment
can take hours. Each segment handler checkpoints after every page and returns {"done": false}
about a minute before its timeout; the Choice state invokes it again and it resumes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.config import StageConfig
from infra.nag import acknowledge, arn_ref, env_text, logical_id

CHILD_OUTPUT = {"done": True}  # what each map item's child execution returns (segment_loop)
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
    """Invoke `function` with `payload` until its result says {"done": true}, then end with
    CHILD_OUTPUT.

    Why a constant output: a distributed Map without a ResultWriter collects every child's output
    into its own result, even with ResultPath null, and fails the run with States.DataLimitExceeded
    past 256 KiB, after all the work (issue 20, major 4: ~730 backfill or ~199 reconcile segments
    with the last state as output). Nothing reads the children's outputs (Merge and the CLI read
    the reports table), so each ends with 14 bytes instead of an S3 bucket to write them to.
    """
    task = invoke(scope, name, function, payload, "$.result")
    finished = sfn.Pass(scope, "Segment finished", parameters=CHILD_OUTPUT)
    done = sfn.Choice(scope, "Segment done?")
    done.when(sfn.Condition.boolean_equals("$.result.done", True), finished).otherwise(task)
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


@dataclass(frozen=True)
class InputRule:
    """One check of a machine's input, made before any Lambda runs: a Choice `name` whose only
    way on is `condition`, else the Fail `failure` with `error` and a cause that says the fix."""

    name: str
    condition: sfn.Condition
    failure: str
    error: str
    cause: str


def checked_input(
    scope: Construct, defaults: Mapping[str, Any], rules: Sequence[InputRule], then: sfn.IChainable
) -> sfn.IChainable:
    """Fill in every field the input leaves out, then check each rule, then `then`.

    Why in the machine and not only in the CLI: an operator may start an execution by hand (the
    runbook prints the command), and a field the input lacks makes the first JSONPath that reads
    it fail the run with States.Runtime, after nothing useful. `Defaults` builds the defaults
    (`run_id` is the execution's name), `Apply defaults` merges the input over them
    (States.JsonMerge: the second object's keys win), so a field given, even as null, is kept.
    """
    # CDK drops a None from Parameters, so a null default is the intrinsic that parses "null"
    values = {
        (f"{k}.$" if v is None else k): ("States.StringToJson('null')" if v is None else v) for k, v in defaults.items()
    }
    fill = sfn.Pass(scope, "Defaults", parameters={**values, "run_id.$": "$$.Execution.Name"}, result_path="$.defaults")
    merged = sfn.Pass(
        scope,
        "Apply defaults",
        parameters={"input.$": "States.JsonMerge($.defaults, $$.Execution.Input, false)"},
        output_path="$.input",
    )
    failures: dict[str, sfn.Fail] = {}
    chain: sfn.IChainable = then
    for rule in reversed(rules):
        if rule.failure not in failures:
            failures[rule.failure] = sfn.Fail(scope, rule.failure, error=rule.error, cause=rule.cause)
        chain = sfn.Choice(scope, rule.name).when(rule.condition, chain).otherwise(failures[rule.failure])
    return fill.next(merged).next(chain)


def number_in(path: str, low: int, high: int) -> sfn.Condition:
    """`path` holds a number from `low` to `high` (a string, null or a missing value does not match;
    ASL cannot test for a whole number: the Lambda that reads it does)."""
    return sfn.Condition.and_(
        sfn.Condition.is_numeric(path),
        sfn.Condition.number_greater_than_equals(path, low),
        sfn.Condition.number_less_than_equals(path, high),
    )
