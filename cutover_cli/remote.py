"""`--remote`: start a deployed state machine (or re-attach to its run) and follow the execution.

The state machine comes from the names the deployment published in SSM (`Names.deployment_parameter`),
never from a typed ARN. A run id names the executions: `<run>-<what>` first, then `-r2`, `-r3`...
when a failed or stopped run is resumed (a closed execution's name cannot be reused for 90 days;
the segment Lambdas resume from their checkpoints). Re-running with the same run id while it runs
re-attaches. Following only reads (DescribeExecution, the checkpoints): Ctrl-C detaches, the
execution keeps running.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from cutover.clients import Clients
from cutover.clock import utc_now
from cutover.errors import ConfigError
from cutover.settings import Settings
from cutover_cli._common import read_published

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
MACHINES = {"backfill": "backfillStateMachineArn", "reconcile": "reconcileStateMachineArn"}
RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,60}$")  # execution names: 80 characters, no ':' or spaces
POLL_SECONDS = 5.0


def new_run_id() -> str:
    """Sortable and unique, like a local reconcile's: `<UTC start, digits>-<6 hex>`."""
    return f"{re.sub(r'[^0-9T]', '', utc_now())}-{uuid.uuid4().hex[:6]}"


def pause(seconds: float) -> None:
    """How `follow` waits between polls (a module function so a test can step the run instead)."""
    time.sleep(seconds)


def check_run_id(run_id: str) -> str:
    if not RUN_ID.match(run_id):
        raise ConfigError(f"--run-id {run_id!r}: use 1-60 letters, digits, '-' or '_' (it names the executions)")
    return run_id


def state_machine_arn(settings: Settings, clients: Clients, kind: str) -> str:
    """The deployed `kind` state machine's ARN, from the published names (also on a local endpoint)."""
    parameter = settings.names.deployment_parameter
    arn = (read_published(settings, clients) or {}).get(MACHINES[kind])
    if not arn:
        raise ConfigError(
            f"no {kind} state machine is published at {parameter} (region {clients.region}): deploy the "
            "replication stack for this --service/--stage (runbooks/deploy.md), or run without --remote"
        )
    return str(arn)


@dataclass
class Execution:
    label: str  # what it runs (a table, or "reconcile")
    arn: str
    attached: bool  # True: it was already running (or finished) under this run id
    description: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return str(self.description.get("status", "RUNNING"))


def execution_arn(machine_arn: str, name: str) -> str:
    return machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name


def start_or_attach(sfn: Any, machine_arn: str, name: str, payload: dict[str, Any], label: str) -> Execution:
    """Attach to the run's latest execution if it is running or succeeded; else start (or resume) it.

    Raises:
        ConfigError: the run is running (or finished) with other options than these.
    """
    latest, attempt = None, 1
    while True:
        candidate = name if attempt == 1 else f"{name}-r{attempt}"
        try:
            latest = sfn.describe_execution(executionArn=execution_arn(machine_arn, candidate))
        except sfn.exceptions.ExecutionDoesNotExist:
            break
        attempt += 1
    if latest is not None and latest["status"] in ("RUNNING", "SUCCEEDED"):
        started_with = json.loads(latest.get("input") or "{}")
        if started_with != payload:
            raise ConfigError(
                f"run {name} is {latest['status']} with input {json.dumps(started_with, sort_keys=True)}: "
                "re-attach with the same options, or choose another --run-id"
            )
        return Execution(label, latest["executionArn"], True, latest)
    new_name = name if latest is None else f"{name}-r{attempt}"
    resp = sfn.start_execution(stateMachineArn=machine_arn, name=new_name, input=json.dumps(payload, sort_keys=True))
    return Execution(label, resp["executionArn"], False, {"status": "RUNNING"})


def follow(
    sfn: Any,
    executions: Sequence[Execution],
    on_poll: Callable[[], None],
    *,
    interval: float = POLL_SECONDS,
) -> None:
    """Poll until every execution is closed, calling `on_poll` (the progress bars) after each look."""
    while True:
        for execution in executions:
            if execution.status not in TERMINAL:
                execution.description = sfn.describe_execution(executionArn=execution.arn)
        on_poll()
        if all(e.status in TERMINAL for e in executions):
            return
        pause(interval)


def detach_line(executions: Sequence[Execution], reattach: str) -> str:
    arns = ", ".join(e.arn for e in executions if e.status not in TERMINAL)
    return f"detached: the execution keeps running ({arns}); re-attach with: {reattach}"


def global_flags(settings: Settings) -> str:
    """The options that name the deployment, for a re-attach command the operator can paste."""
    flags = f"--service {settings.service} --stage {settings.stage}"
    return flags + (f" --region {settings.region}" if settings.region else "")


def failure_line(sfn: Any, execution: Execution) -> str:
    """One line: the execution, its status, the state it failed in (from its history) and the error."""
    d = execution.description
    state = _failing_state(sfn, execution.arn)
    where = f" in state {state!r}" if state else ""
    error = ": ".join(str(x) for x in (d.get("error"), d.get("cause")) if x)
    return f"{execution.label}: execution {execution.arn} {execution.status}{where}" + (
        f": {' '.join(error.split())[:400]}" if error else ""
    )


def _failing_state(sfn: Any, arn: str) -> str | None:
    """The last state the execution entered (best effort: the history may be unreadable)."""
    try:
        events = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=50)["events"]
    except ClientError:
        return None
    for event in events:
        details = event.get("stateEnteredEventDetails")
        if details:
            return str(details.get("name"))
    return None
