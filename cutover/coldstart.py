"""The one cold-start helper every Lambda handler uses.

A handler's dependencies (validated environment, clients, long-lived objects) are built once per
container, at the first invocation, never at import: an import-time failure is reported by Lambda
as an opaque init error, while a ConfigError raised here names every bad variable in the
invocation's log. Defaults declared in `cutover.environment` are applied the same way for every
function (`FunctionEnv.load`), and clients always come from `cutover.clients.Clients`, the one
factory that knows about a local endpoint.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from cutover.clients import Clients
from cutover.environment import FunctionEnv
from cutover.settings import Settings

T = TypeVar("T")

Builder = Callable[[dict[str, str], Clients], T]


class ColdStart(Generic[T]):
    """`ColdStart(SPEC, build).get()` returns `build(env, clients)`, built on first use only."""

    def __init__(self, spec: FunctionEnv, build: Builder[T]) -> None:
        self._spec = spec
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self, environ: Mapping[str, str] | None = None) -> T:
        """The built value; on first call, load `environ` (default: the process environment).

        Raises:
            ConfigError: the environment is invalid (every problem named; nothing is cached).
        """
        with self._lock:
            if self._value is None:
                source = dict(os.environ if environ is None else environ)
                env = self._spec.load(source)
                clients = Clients(settings_from_env(env, source))
                self._value = self._build(env, clients)
            return self._value

    @property
    def built(self) -> T | None:
        """The value if it has been built (tests and diagnostics), else None."""
        return self._value

    def reset(self) -> None:
        """Forget the built value (tests; a container never needs it)."""
        with self._lock:
            self._value = None


def settings_from_env(env: Mapping[str, str], source: Mapping[str, str]) -> Settings:
    """Settings for a function: its validated SERVICE/STAGE, the runtime's region, and the local
    endpoint only when `CUTOVER_ENDPOINT_URL` is set (never on AWS)."""
    return Settings(
        service=env["SERVICE"],
        stage=env["STAGE"],
        region=source.get("AWS_REGION") or source.get("AWS_DEFAULT_REGION"),
        endpoint_url=source.get("CUTOVER_ENDPOINT_URL") or None,
        dynamodb_endpoint_url=source.get("CUTOVER_DYNAMODB_ENDPOINT_URL") or None,
    )
