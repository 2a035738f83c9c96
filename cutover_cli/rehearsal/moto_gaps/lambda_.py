"""moto 5.2's Lambda runs a function's code only in Docker (there is none here, nor in CI).

Without Docker, `LambdaFunction._invoke_lambda` fails and Step Functions' Lambda tasks, `Invoke`
and event source mappings never reach a handler. Every one of those paths goes through that one
method, so it is the one patched: a function the rehearsal deployed (`Functions`) is invoked in
its own worker process (lambdas.py); any other function keeps moto's behaviour.

What AWS does and this restores
(https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html): a handler's unhandled error is
still a 200 response, with `X-Amz-Function-Error` set and the payload
{"errorType", "errorMessage", "stackTrace"}, which Step Functions turns into the task's error
name (errorType) and cause (the payload).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cutover_cli.rehearsal.lambdas import Functions


@contextmanager
def dispatched(functions: Functions) -> Iterator[Functions]:
    """Within the block, invoking a function of `functions` runs its real handler."""
    from moto.awslambda.models import LambdaFunction

    original = LambdaFunction._invoke_lambda

    def invoke(self: Any, event: Any = None) -> tuple[str, bool, str]:
        if functions.find(self.function_arn) is None:
            return original(self, event)
        answer = functions.invoke(self.function_arn, {} if event in (None, "{}") else event)
        return answer.payload, answer.errored, answer.log

    LambdaFunction._invoke_lambda = invoke  # type: ignore[method-assign]
    try:
        yield functions
    finally:
        LambdaFunction._invoke_lambda = original  # type: ignore[method-assign]
