"""One Lambda function's runtime, in a process of its own: `python -m cutover_cli.rehearsal.worker`.

Why a process per function: environment variables and credentials are process-wide, each asset
carries its own copy of `cutover/`, and a handler's module-level state (its cold start) must be
its function's alone. The parent (`lambdas.Workers`) starts it with the function's synthesized
environment, its role's credentials and `cwd` = the asset folder first on PYTHONPATH (as
/var/task is on Lambda), so the handler and everything it imports load from the asset. The
checkout comes after the asset on the path only for this harness (`cutover_cli.rehearsal`),
which no asset ships.

Protocol (one JSON document per line): the first line from the parent is the setup
({"handler", "policy", "account", "region", "timeout"}); then one line per invocation
({"event"}) answered by one line ({"payload"} or {"error": {errorType, errorMessage,
stackTrace}}, as Lambda's Invoke returns an unhandled error). The handler's own stdout (the
Powertools logs) goes to stderr, so it never corrupts the answers.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any, TextIO


class Context:
    """The parts of Lambda's context object the handlers read: the deadline and the names."""

    def __init__(self, name: str, timeout_s: float) -> None:
        self.function_name = name
        self.aws_request_id = f"rehearsal-{time.monotonic_ns()}"
        self.memory_limit_in_mb = 128
        self.invoked_function_arn = os.environ.get("CUTOVER_REHEARSAL_FUNCTION_ARN", "")
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _policy(document: dict[str, Any]) -> Any:
    from cutover_cli.rehearsal.policy import Policy, Statement

    statements = tuple(
        Statement(s["effect"], tuple(s["actions"]), tuple(s["resources"]), s["conditional"])
        for s in document["statements"]
    )
    return Policy(document["principal"], statements, tuple(document["unresolved"]))


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc)[-8:],
    }


def serve(requests: TextIO, answers: TextIO) -> None:
    setup = json.loads(requests.readline())
    module_name, _, attribute = setup["handler"].rpartition(".")
    asset = Path.cwd().resolve()
    module = importlib.import_module(module_name)
    origin = Path(module.__file__ or "").resolve()
    if asset not in origin.parents:  # the handler must run the asset's code, not the checkout's
        raise RuntimeError(f"{setup['handler']} loaded from {origin}, not from its asset {asset}")
    handler = getattr(module, attribute)
    from cutover_cli.rehearsal.enforce import enforced

    with enforced(_policy(setup["policy"]), setup["account"], setup["region"]):
        answers.write(json.dumps({"ready": True}) + "\n")
        answers.flush()
        for line in requests:
            event = json.loads(line)["event"]
            try:
                answer: dict[str, Any] = {"payload": handler(event, Context(setup["name"], setup["timeout"]))}
                text = json.dumps(answer, default=str)
            except Exception as exc:  # noqa: BLE001 - Lambda reports any unhandled error to its caller
                text = json.dumps({"error": _error(exc)})
            answers.write(text + "\n")
            answers.flush()


def main() -> None:
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # the handler's prints and logs go to stderr
    sys.stdout = sys.stderr
    serve(sys.stdin, answers)


if __name__ == "__main__":
    main()
