"""The AWS behaviour each moto patch of the rehearsal restores (cutover_cli/rehearsal/moto_gaps/),
on the moto server, with small machines of their own (the deployed ones: test_remote_cli.py).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cutover_cli.rehearsal.lambdas import Functions, FunctionSpec, Runtime
from cutover_cli.rehearsal.moto_gaps.lambda_ import dispatched
from cutover_cli.rehearsal.moto_gaps.stepfunctions import Interpreter, interpreter
from cutover_cli.rehearsal.policy import Policy

pytestmark = pytest.mark.server
ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/rehearsal-gaps"
# A handler that fails its first two invocations (a warm worker keeps the count), then answers
FLAKY = """
calls = 0

class Flaky(Exception):
    pass

def handler(event, context):
    global calls
    calls += 1
    if calls <= 2:
        raise Flaky(f"attempt {calls}")
    return {"attempts": calls, "event": event}

def environment(event, context):
    import os
    import cutover
    return {"env": dict(os.environ), "cutover": cutover.__file__, "remaining": context.get_remaining_time_in_millis()}

def slow(event, context):
    import time
    time.sleep(event["sleep"])
    return {"slept": event["sleep"], "calls": calls}
"""


@pytest.fixture
def sfn(settings, clients) -> Iterator[tuple[Any, Interpreter]]:
    with interpreter(str(settings.endpoint_url)) as played:
        yield clients.client("stepfunctions"), played


def _run(sfn: Any, definition: dict[str, Any], name: str, text: str = "{}") -> dict[str, Any]:
    machine = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, name="run", input=text)["executionArn"]
    deadline = time.monotonic() + 120
    while (out := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{arn} still RUNNING"
        time.sleep(0.05)
    return out


def _map(**tolerated: Any) -> dict[str, Any]:
    """A distributed map over [0, 1, 2, 3] whose items in `$.bad` fail."""
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Bad?",
        "States": {
            "Bad?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.bad", "BooleanEquals": True, "Next": "Fail"}],
                "Default": "Ok",
            },
            "Fail": {"Type": "Fail", "Error": "ItemFailed", "Cause": "bad item"},
            "Ok": {"Type": "Pass", "End": True},
        },
    }
    return {
        "StartAt": "Items",
        "States": {
            "Items": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemSelector": {"bad.$": "$$.Map.Item.Value.bad"},
                "ItemProcessor": processor,
                "ResultPath": None,
                "End": True,
                **tolerated,
            }
        },
    }


def _items(*bad: int) -> str:
    return json.dumps({"items": [{"bad": n in bad} for n in range(4)]})


def test_a_failed_item_fails_a_distributed_map_past_its_tolerated_threshold(sfn, settings):
    """https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html: the
    default threshold is 0 (one failed child fails the Map Run), the Map then fails with
    States.ExceedToleratedFailureThreshold; a threshold not exceeded lets it succeed. (moto's
    parser takes a percentage only with a decimal point: 50.0, where AWS also takes 50.)"""
    client, _ = sfn
    prefix = settings.service
    failed = _run(client, _map(), f"{prefix}-default", _items(1))
    assert failed["status"] == "FAILED" and failed["error"] == "States.ExceedToleratedFailureThreshold", failed
    # Then within a threshold (1 of 4 = 25% <= 50%; 1 failure <= 1) the run succeeds
    assert _run(client, _map(ToleratedFailurePercentage=50.0), f"{prefix}-pct", _items(1))["status"] == "SUCCEEDED"
    assert _run(client, _map(ToleratedFailureCount=1), f"{prefix}-count", _items(2))["status"] == "SUCCEEDED"
    # And past it (2 failures > 1) it fails again
    over = _run(client, _map(ToleratedFailureCount=1), f"{prefix}-over", _items(0, 3))
    assert over["status"] == "FAILED" and over["error"] == "States.ExceedToleratedFailureThreshold"
    assert _run(client, _map(), f"{prefix}-clean", _items())["status"] == "SUCCEEDED"


def _gathering(size: int, items: int) -> tuple[dict[str, Any], str]:
    """A distributed map (ResultPath null) whose every child outputs `size` bytes of padding."""
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Out",
        "States": {"Out": {"Type": "Pass", "Result": {"pad": "x" * size}, "End": True}},
    }
    state = {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "ResultPath": None, "End": True}
    return {"StartAt": "Items", "States": {"Items": state}}, json.dumps({"items": list(range(items))})


def test_a_distributed_maps_gathered_result_is_capped_even_with_result_path_null(sfn, settings):
    """Without a ResultWriter the children's outputs are gathered into the Map's result, whatever
    ResultPath says, and past 256 KiB the run fails with States.DataLimitExceeded
    (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html,
    https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html): issue 20's major 4."""
    client, _ = sfn
    definition, text = _gathering(3000, 100)  # 100 x 3 kB: over 256 KiB
    over = _run(client, definition, f"{settings.service}-big", text)
    assert over["status"] == "FAILED" and over["error"] == "States.DataLimitExceeded", over
    definition, text = _gathering(2000, 100)  # 100 x 2 kB: under it
    assert _run(client, definition, f"{settings.service}-small", text)["status"] == "SUCCEEDED"


def test_execution_history_honours_reverse_order_and_pages(sfn, settings):
    """https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html:
    reverseOrder lists the newest event first; maxResults pages, with nextToken for the rest."""
    client, _ = sfn
    steps = {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "C"}, "C": {"Type": "Pass", "End": True}}
    out = _run(client, {"StartAt": "A", "States": steps}, f"{settings.service}-history")
    oldest = client.get_execution_history(executionArn=out["executionArn"])["events"]
    newest = client.get_execution_history(executionArn=out["executionArn"], reverseOrder=True)["events"]
    assert [e["id"] for e in newest] == [e["id"] for e in reversed(oldest)]
    entered = [e["stateEnteredEventDetails"]["name"] for e in newest if "stateEnteredEventDetails" in e]
    assert entered == ["C", "B", "A"]  # the last state entered comes first (`cutover`'s failure line)
    first = client.get_execution_history(executionArn=out["executionArn"], maxResults=2)
    assert [e["id"] for e in first["events"]] == [e["id"] for e in oldest[:2]] and first["nextToken"]
    rest = client.get_execution_history(executionArn=out["executionArn"], maxResults=100, nextToken=first["nextToken"])
    assert [e["id"] for e in rest["events"]] == [e["id"] for e in oldest[2:]] and "nextToken" not in rest


@pytest.fixture
def flaky(settings, clients, sfn, tmp_path) -> Iterator[Functions]:
    """A function (the FLAKY handler, from an asset folder of its own) deployed and dispatched."""
    asset = tmp_path / "asset"
    asset.mkdir()
    (asset / "flaky.py").write_text(FLAKY)
    iam, lam = clients.client("iam"), clients.client("lambda")
    role = iam.create_role(RoleName=f"{settings.service}-flaky", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    name = f"{settings.service}-flaky"
    arn = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="flaky.handler",
        Code={"ZipFile": b"PK\x05\x06" + bytes(18)},
    )["FunctionArn"]
    functions = Functions(Runtime(str(settings.endpoint_url), ACCOUNT, REGION), tmp_path / "logs")
    functions.add(FunctionSpec(name, arn, "flaky.handler", Path(asset), {}, Policy("flaky", ()), 60.0, role))
    with dispatched(functions):
        yield functions
    functions.close()


def test_a_task_reaches_its_function_and_retries_as_its_retrier_says_without_sleeping(sfn, flaky, settings):
    """https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html: a
    Retrier waits IntervalSeconds, then x BackoffRate before each further attempt; a Lambda's
    unhandled error is the task's error, named by its errorType
    (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: X-Amz-Function-Error)."""
    client, played = sfn
    spec = flaky.find(f"{settings.service}-flaky")
    assert spec is not None
    retry = [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 30, "BackoffRate": 2, "MaxAttempts": 2}]
    definition = {
        "StartAt": "Call",
        "States": {"Call": {"Type": "Task", "Resource": spec.arn, "Retry": retry, "End": True}},
    }
    started = time.monotonic()
    out = _run(client, definition, f"{settings.service}-retry", json.dumps({"x": 1}))
    # Then the third attempt's answer is the output, after waits of 30 and 60 s that were not slept
    assert out["status"] == "SUCCEEDED", out
    assert json.loads(out["output"]) == {"attempts": 3, "event": {"x": 1}}
    assert played.waits == [30.0, 60.0] and time.monotonic() - started < 30
    assert [name for name, _ in flaky.invocations] == [spec.name] * 3


def test_an_unhandled_error_past_the_retries_fails_the_task_with_its_error_type(sfn, flaky, settings):
    client, played = sfn
    spec = flaky.find(f"{settings.service}-flaky")
    assert spec is not None
    definition = {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": spec.arn, "End": True}}}
    out = _run(client, definition, f"{settings.service}-fail")
    assert out["status"] == "FAILED" and out["error"] == "Flaky", out
    cause = json.loads(out["cause"])
    assert cause["errorType"] == "Flaky" and cause["errorMessage"] == "attempt 1" and played.waits == []


def test_an_invocation_past_the_functions_timeout_is_stopped_and_the_next_one_starts_cold(flaky, settings):
    """Lambda stops an invocation at the function's Timeout, reports it to the caller as an
    unhandled error, and discards the environment (module state is gone on the next call)."""
    spec = flaky.find(f"{settings.service}-flaky")
    assert spec is not None
    flaky.replace(FunctionSpec(spec.name, spec.arn, "flaky.slow", spec.asset, {}, spec.policy, 1.0, spec.role_arn))
    flaky.invoke(spec.arn, {"sleep": 0})  # a warm environment first
    started = time.monotonic()
    timed_out = flaky.invoke(spec.arn, {"sleep": 30})
    assert timed_out.errored and json.loads(timed_out.payload)["errorType"] == "Sandbox.Timedout"
    assert time.monotonic() - started < 15
    again = flaky.invoke(spec.arn, {"sleep": 0})
    assert not again.errored and json.loads(again.payload) == {"slept": 0, "calls": 0}  # cold: a new process


def test_a_function_sees_its_own_environment_and_code_and_nothing_of_the_test_process(flaky, settings, monkeypatch):
    """Each function runs in a process of its own: its synthesized variables plus what Lambda's
    runtime sets (region, name, its role's credentials), its asset's code first on the path."""
    monkeypatch.setenv("SOURCE_TABLES", "the test process's own: must not leak")
    spec = flaky.find(f"{settings.service}-flaky")
    assert spec is not None
    (spec.asset / "cutover").mkdir()
    (spec.asset / "cutover" / "__init__.py").write_text("")  # the asset's own copy of the package
    flaky.replace(
        FunctionSpec(
            spec.name, spec.arn, "flaky.environment", spec.asset, {"STAGE": "dev"}, spec.policy, 60.0, spec.role_arn
        )
    )
    out = json.loads(flaky.invoke(spec.arn, {}).payload)
    env = out["env"]
    assert env["STAGE"] == "dev" and "SOURCE_TABLES" not in env
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == spec.name and env["AWS_REGION"] == REGION
    assert env["AWS_SESSION_TOKEN"] and env["AWS_ACCESS_KEY_ID"] != os.environ.get("AWS_ACCESS_KEY_ID")
    assert out["cutover"] == str(spec.asset / "cutover" / "__init__.py")
    assert 0 < out["remaining"] <= 60_000


def test_a_handler_the_asset_lacks_is_refused_rather_than_run_from_the_checkout(flaky, settings):
    spec = flaky.find(f"{settings.service}-flaky")
    assert spec is not None
    flaky.replace(
        FunctionSpec(
            spec.name,
            spec.arn,
            "backfill.segment_lambda.lambda_handler",
            spec.asset,
            {},
            spec.policy,
            60.0,
            spec.role_arn,
        )
    )
    answer = flaky.invoke(spec.arn, {})
    assert answer.errored and json.loads(answer.payload)["errorType"] == "Runtime.ImportModuleError"
    assert "not from its asset" in next((spec.asset.parent / "logs").glob("*.log")).read_text()
