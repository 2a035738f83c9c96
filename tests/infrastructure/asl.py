"""Play the first states of a synthesized state machine on moto's ASL interpreter, in process.

Why: what a machine does with its input (defaults, checks, the map items it builds) is decided by
Pass and Choice states and JSONPath, which a template assertion cannot evaluate. moto 5.2 runs
ASL (`mock_aws(config={"stepfunctions": {"execute_state_machine": True}})`); the Lambda tasks and
distributed maps beyond the point under test are cut off, so no function runs.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import boto3
from moto import mock_aws

ROLE = "arn:aws:iam::123456789012:role/played"
END = {"Type": "Pass", "End": True}


@dataclass(frozen=True)
class Played:
    status: str
    output: dict[str, Any] | None
    error: str | None
    cause: str | None


def reachable(states: dict[str, Any], start: str) -> set[str]:
    """Every state reachable from `start` through Next, Choices and Default (no Catch here)."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        state = states[name]
        todo += [n for n in (state.get("Next"), state.get("Default")) if n]
        todo += [choice["Next"] for choice in state.get("Choices", ())]
    return seen


def cut(definition: dict[str, Any], replacements: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The definition with `replacements` for some states and without what no longer is reachable."""
    states = {**definition["States"], **replacements}
    keep = reachable(states, definition["StartAt"])
    return {"StartAt": definition["StartAt"], "States": {n: s for n, s in states.items() if n in keep}}


def play(definition: dict[str, Any], inputs: list[str], timeout: float = 120.0) -> list[Played]:
    """Start one execution per input (each a JSON text, as `--input` gives it) and wait for each."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        client = boto3.client("stepfunctions", region_name="us-east-1")
        machine = client.create_state_machine(name="played", definition=json.dumps(definition), roleArn=ROLE)
        arns = [
            client.start_execution(stateMachineArn=machine["stateMachineArn"], name=f"run-{n}", input=text)[
                "executionArn"
            ]
            for n, text in enumerate(inputs)
        ]
        return [_wait(client, arn, timeout) for arn in arns]


def _wait(client: Any, arn: str, timeout: float) -> Played:
    deadline = time.monotonic() + timeout
    while True:
        out = client.describe_execution(executionArn=arn)
        if out["status"] != "RUNNING":
            output = json.loads(out["output"]) if out.get("output") else None
            return Played(out["status"], output, out.get("error"), out.get("cause"))
        if time.monotonic() > deadline:
            raise AssertionError(f"execution {arn} still RUNNING after {timeout} s")
        time.sleep(0.02)
