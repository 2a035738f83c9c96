"""Where moto 5.2's Step Functions interpreter differs from AWS in ways the rehearsal would see.

Each patch names the moto limitation and the AWS behaviour it restores; `interpreter()` applies
them all for the duration of a block and undoes them after. Pinned by
tests/integration/test_rehearsal_moto_gaps.py.

1. **Executions do not run** unless `execute_state_machine` is on (moto's config, process-wide:
   it picks the ASL interpreter's backend, so machines must be created inside the block).
2. **Tasks call the wrong endpoint in server mode.** The interpreter's AWS clients
   (`boto_client_for`) go to `localhost:$MOTO_PORT` (default 5000) whenever moto's in-process
   stubber is off, i.e. in the server, whatever port the server listens on; AWS calls the service
   itself. Patched: its port is the server's own.
3. **Retries sleep for real.** A Retrier waits IntervalSeconds x BackoffRate^n with `time.sleep`
   (10 + 20 + 40 s for our TaskFailed retrier). The waits are recorded in `Interpreter.waits`
   instead of slept; the attempts and their order are AWS's
   (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
4. **A distributed Map never fails for its items**: a child that fails is counted, and the Map
   succeeds anyway, so a run whose segment failed reports SUCCEEDED. AWS fails the Map Run, and
   the Map state with States.ExceedToleratedFailureThreshold, once the failed or timed-out items
   exceed ToleratedFailureCount / ToleratedFailurePercentage (both default 0: one failure fails
   it) (https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html).
   Patched after the Map Run's items end. Differences left: AWS may fail before the other items
   end, and with both thresholds set it fails when either is exceeded, this when both are.
5. **A distributed Map's gathered result is not size-checked when ResultPath is null.** moto
   checks every state's output against the 256 KiB payload quota (as AWS does), but drops a Map's
   result before that check when ResultPath is null. AWS gathers the children's outputs into the
   Map's result whatever ResultPath says (without a ResultWriter) and fails with
   States.DataLimitExceeded past the quota
   (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html,
   https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html). Patched where the
   Map Run hands its outputs over.
6. **GetExecutionHistory ignores `reverseOrder`, `maxResults` and `nextToken`**: it returns every
   event oldest first, so "the last state entered" reads as the first. Patched as the API
   documents them (https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Interpreter:
    """What the patched interpreter did that AWS would have done over time: the retry waits."""

    waits: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.waits.append(float(seconds))


class _Clock:
    """Stands in for the `time` module inside moto's retrier: `sleep` is recorded, not slept."""

    def __init__(self, interpreter: Interpreter) -> None:
        self.sleep = interpreter.sleep


def _history(self: Any) -> Any:
    """GetExecutionHistory with reverseOrder, maxResults (default 100, at most 1000) and nextToken."""
    from moto.core.responses import ActionResult

    arn = self._get_param("executionArn")
    events = list(self.stepfunction_backend.get_execution_history(arn)["events"])
    if self._get_param("reverseOrder"):
        events.reverse()
    size = min(int(self._get_param("maxResults") or 100), 1000)
    start = int(self._get_param("nextToken") or 0)
    out: dict[str, Any] = {"events": events[start : start + size]}
    if start + size < len(events):
        out["nextToken"] = str(start + size)
    return ActionResult(out)


def _map_run_checked(original: Any) -> Any:
    """The Map Run, then AWS's checks on its end: the failure threshold (4), the result's size (5)."""
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.quotas import is_within_size_quota

    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        original(self, env, eval_input)
        items = eval_input.map_run_record.item_counter
        failed, total = items.failed.get() + items.timed_out.get(), items.total.get()
        count, percentage = eval_input.tolerated_failure_count, eval_input.tolerated_failure_percentage
        if failed > (count or 0) and total and 100.0 * failed / total > (percentage or 0.0):
            cause = f"{failed} of {total} items failed (tolerated: {count or 0}, {percentage or 0}%)"
            raise _failure(env, StatesErrorNameType.StatesExceedToleratedFailureThreshold, cause)
        if not is_within_size_quota(env.stack[-1]):
            cause = f"the Map Run's gathered result of {total} items exceeds the 256 KiB state payload quota"
            raise _failure(env, StatesErrorNameType.StatesStatesDataLimitExceeded, cause)

    return map_run


def _failure(env: Any, error: Any, cause: str) -> Exception:
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=error),
            event_type=HistoryEventType.ExecutionFailed,
            event_details=EventDetails(  # type: ignore[typeddict-item]  # moto builds them so too
                executionFailedEventDetails=ExecutionFailedEventDetails(error=error.to_name(), cause=cause)
            ),
        )
    )


@contextmanager
def interpreter(endpoint_url: str) -> Iterator[Interpreter]:
    """Within the block, executions started on the moto server at `endpoint_url` run as on AWS."""
    from moto.core.config import default_user_config
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
        DistributedIterationComponent as Distributed,
    )
    from moto.stepfunctions.parser.asl.utils import boto_client
    from moto.stepfunctions.responses import StepFunctionResponse

    played = Interpreter()
    port = str(urlsplit(endpoint_url).port)
    config = default_user_config.setdefault("stepfunctions", {})
    saved = (
        config.get("execute_state_machine", False),
        boto_client.moto_server_port,
        retrier_decl.time,
        StepFunctionResponse.get_execution_history,
        Distributed._map_run,
    )
    config["execute_state_machine"] = True
    boto_client.moto_server_port = lambda: port
    retrier_decl.time = _Clock(played)  # type: ignore[assignment]
    StepFunctionResponse.get_execution_history = _history  # type: ignore[method-assign]
    Distributed._map_run = _map_run_checked(saved[4])  # type: ignore[method-assign]
    try:
        yield played
    finally:
        config["execute_state_machine"] = saved[0]
        boto_client.moto_server_port = saved[1]
        retrier_decl.time = saved[2]
        StepFunctionResponse.get_execution_history = saved[3]  # type: ignore[method-assign]
        Distributed._map_run = saved[4]  # type: ignore[method-assign]
