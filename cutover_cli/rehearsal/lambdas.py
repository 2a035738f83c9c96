"""The rehearsal's Lambda service: each deployed function runs in its own worker process.

A `Functions` registry knows, for each function the rehearsal deployed, its handler, asset
folder, synthesized environment (resolved), IAM policy and timeout. The first invocation starts
the function's worker (`worker.py`) with that environment, the runtime's variables (region,
function name) and credentials of its own execution role from the emulator's STS; later
invocations reuse it, as a warm Lambda environment is reused.

An invocation that outlasts the function's Timeout ends as on Lambda: the environment is
stopped (the worker killed; the next invocation starts cold) and the caller gets the unhandled
error `Sandbox.Timedout` ("Task timed out after N seconds"; the error type current runtimes
report, as far as we know: not checked against AWS).

Limitation: one worker per function serves one invocation at a time (a function with a
concurrency of 1): concurrent invocations queue rather than run side by side, so a Map's items
interleave only between invocations.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from cutover_cli.rehearsal.policy import Policy

CHECKOUT = Path(__file__).resolve().parents[2]  # for cutover_cli.rehearsal only (after the asset)
TIMEOUT_GRACE = 1.0  # seconds past a function's Timeout before its invocation is called timed out


class WorkerStartError(RuntimeError):
    """A function's worker exited before it was ready (its handler could not be loaded)."""


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    arn: str
    handler: str  # module.attribute, as the template's Handler
    asset: Path  # the folder CDK staged as the function's code
    environment: dict[str, str]  # the synthesized Environment.Variables, resolved
    policy: Policy
    timeout: float  # seconds (the template's Timeout)
    role_arn: str


@dataclass(frozen=True)
class Runtime:
    """Where the functions run: the emulator's endpoint, account and region."""

    endpoint_url: str
    account: str
    region: str


@dataclass
class _Worker:
    process: subprocess.Popen[str]
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Answer:
    payload: str  # the Invoke response's body, JSON
    errored: bool  # an unhandled error (X-Amz-Function-Error)
    log: str


class Functions:
    """The deployed functions, by name and ARN, and their workers (started on first use)."""

    def __init__(self, runtime: Runtime, log_dir: Path) -> None:
        self.runtime, self.log_dir = runtime, log_dir
        self._specs: dict[str, FunctionSpec] = {}
        self._workers: dict[str, _Worker] = {}
        self._lock = threading.Lock()
        self.invocations: list[tuple[str, Any]] = []  # (function name, event), in order
        # Around each invocation (a test's way to step a run): called with the function's name
        self.before: Callable[[str], None] | None = None
        self.after: Callable[[str], None] | None = None

    def add(self, spec: FunctionSpec) -> None:
        self._specs[spec.name] = self._specs[spec.arn] = spec

    def replace(self, spec: FunctionSpec) -> None:
        """Redeploy a function (new environment or policy): its next invocation starts cold."""
        self.add(spec)
        with self._lock:
            worker = self._workers.pop(spec.name, None)
        if worker is not None:
            _stop(worker)

    def find(self, name_or_arn: str) -> FunctionSpec | None:
        return self._specs.get(name_or_arn)

    def invoke(self, name_or_arn: str, event: Any) -> Answer:
        spec = self._specs[name_or_arn]
        if self.before is not None:
            self.before(spec.name)
        try:
            return self._invoke(spec, event)
        finally:
            if self.after is not None:
                self.after(spec.name)

    def _invoke(self, spec: FunctionSpec, event: Any) -> Answer:
        with self._lock:
            self.invocations.append((spec.name, event))
        try:
            worker = self._worker(spec)
        except WorkerStartError as exc:  # Lambda reports a failed init to the caller as a function error
            error = {"errorType": "Runtime.ImportModuleError", "errorMessage": str(exc)}
            return Answer(json.dumps(error), True, "")
        with worker.lock:
            stdin, stdout = _pipes(worker.process)
            stdin.write(json.dumps({"event": event}) + "\n")
            stdin.flush()
            ready, _, _ = select.select([stdout], [], [], spec.timeout + TIMEOUT_GRACE)
            line = stdout.readline() if ready else None
        if line is None:  # Lambda stops the environment at its timeout and reports it so
            with self._lock:
                self._workers.pop(spec.name, None)
            worker.process.kill()
            worker.process.wait()
            message = f"Task timed out after {spec.timeout:.2f} seconds"
            return Answer(json.dumps({"errorType": "Sandbox.Timedout", "errorMessage": message}), True, "")
        if not line:
            message = f"{spec.name}: the worker exited (its log: {self._log(spec)})"
            error = {"errorType": "Runtime.ExitError", "errorMessage": message}
            with self._lock:
                self._workers.pop(spec.name, None)
            return Answer(json.dumps(error), True, "")
        answer = json.loads(line)
        if "error" in answer:
            return Answer(json.dumps(answer["error"]), True, "")
        return Answer(json.dumps(answer["payload"]), False, "")

    def _log(self, spec: FunctionSpec) -> Path:
        return self.log_dir / f"{spec.name}.log"

    def _worker(self, spec: FunctionSpec) -> _Worker:
        with self._lock:
            worker = self._workers.get(spec.name)
            if worker is None or worker.process.poll() is not None:
                worker = self._workers[spec.name] = _Worker(self._start(spec))
            return worker

    def _start(self, spec: FunctionSpec) -> subprocess.Popen[str]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": os.pathsep.join((str(spec.asset), str(CHECKOUT))),
            "PYTHONDONTWRITEBYTECODE": "1",
            **spec.environment,
            **self._runtime_variables(spec),
        }
        with self._log(spec).open("a") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "cutover_cli.rehearsal.worker"],
                cwd=spec.asset,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        stdin, stdout = _pipes(process)
        setup = {
            "name": spec.name,
            "handler": spec.handler,
            "policy": asdict(spec.policy),
            "account": self.runtime.account,
            "region": self.runtime.region,
            "timeout": spec.timeout,
        }
        stdin.write(json.dumps(setup) + "\n")
        stdin.flush()
        if not stdout.readline():
            process.kill()
            process.wait()
            stdin.close()
            stdout.close()
            raise WorkerStartError(
                f"{spec.name}: its worker did not start (its handler could not load): see {self._log(spec)}"
            )
        return process

    def _runtime_variables(self, spec: FunctionSpec) -> dict[str, str]:
        """What Lambda's runtime sets, plus the emulator's endpoint (the one variable AWS does not
        set: the functions' clients must reach the emulator rather than AWS)."""
        credentials = _assume(self.runtime, spec.role_arn, spec.name)
        return {
            "AWS_REGION": self.runtime.region,
            "AWS_DEFAULT_REGION": self.runtime.region,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(spec.timeout)),
            "CUTOVER_REHEARSAL_FUNCTION_ARN": spec.arn,
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
            "CUTOVER_ENDPOINT_URL": self.runtime.endpoint_url,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        }

    def close(self) -> None:
        with self._lock:
            workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            _stop(worker)


def _stop(worker: _Worker) -> None:
    """End a worker: its input closed, it exits after the invocation it may be running."""
    with worker.lock:
        stdin, stdout = _pipes(worker.process)
        stdin.close()
        try:
            worker.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
        stdout.close()


def _pipes(process: subprocess.Popen[str]) -> tuple[IO[str], IO[str]]:
    assert process.stdin is not None and process.stdout is not None
    return process.stdin, process.stdout


def _assume(runtime: Runtime, role_arn: str, name: str) -> dict[str, str]:
    """Credentials of the function's execution role, from the emulator's STS (as Lambda's are)."""
    import boto3

    sts = boto3.client(
        "sts",
        endpoint_url=runtime.endpoint_url,
        region_name=runtime.region,
        aws_access_key_id="rehearsal",
        aws_secret_access_key="rehearsal",
    )
    out = sts.assume_role(RoleArn=role_arn, RoleSessionName=name[:64])
    return dict(out["Credentials"])
