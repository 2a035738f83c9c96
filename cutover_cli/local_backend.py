"""The embedded local backend: a moto server on loopback and idempotent creation of every resource.

State lives in the moto process's memory and is gone when it stops.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cutover.clients import Clients
from cutover.errors import ConfigError
from cutover.settings import Settings

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def check_port_free(port: int) -> None:
    """Fail in one line before starting a server on a port something else already listens on.

    Without this, the server thread dies on its bind error while the readiness probe happily
    connects to the *other* process, and every later request goes to the wrong server.
    """
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {LOOPBACK}:{port}: {exc.strerror}; pick another --port") from exc


class _Endpoint:
    """What both server kinds share: a loopback endpoint, used as a context manager."""

    port: int

    @property
    def endpoint_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> _Endpoint:  # pragma: no cover - overridden
        raise NotImplementedError

    def stop(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self) -> _Endpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class LocalServer(_Endpoint):
    """A moto server in a background thread of this process (moto's ThreadedMotoServer)."""

    port: int = 0
    _server: Any = None

    def start(self) -> LocalServer:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        if self.port:
            check_port_free(self.port)
        self.port = self.port or free_port()
        self._server = ThreadedMotoServer(ip_address=LOOPBACK, port=self.port, verbose=False)
        self._server.start()
        _wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def wait_for_endpoint(endpoint_url: str, timeout: float) -> None:
    """Wait until `endpoint_url`'s host:port accepts connections (ConfigError after `timeout` s)."""
    parts = urlsplit(endpoint_url)
    host, port = parts.hostname or LOOPBACK, parts.port or (443 if parts.scheme == "https" else 80)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1.0).close()
            return
        except OSError:
            time.sleep(0.1)
    raise ConfigError(f"nothing is listening on {endpoint_url} after {timeout:.0f}s: start it with `cutover local`")


ROOT = Path(__file__).resolve().parents[1]


def dynalite_command() -> list[str]:
    """How to start dynalite: `$CUTOVER_DYNALITE`, else the copy `npm ci` put in ./node_modules, run
    through `dynalite_serve.js` (which survives clients that disconnect mid-request)."""
    configured = os.environ.get("CUTOVER_DYNALITE")
    if configured:
        return [configured]
    installed = ROOT / "node_modules" / "dynalite"
    if not installed.is_dir():
        raise ConfigError(
            f"dynalite is not installed at {installed}: run `make cdk-cli` (npm ci installs it from package.json), "
            "or set CUTOVER_DYNALITE to its executable"
        )
    return ["node", str(Path(__file__).with_name("dynalite_serve.js"))]


@dataclass
class DynaliteServer(_Endpoint):
    """dynalite (npm, MIT): a second DynamoDB engine, written independently of moto, in a child process.

    It serves DynamoDB only (no Streams, no SSM), in memory, and is stricter than moto in places
    (see DESIGN.md, "Two engines"), which is why the DynamoDB-only test suites run on both.
    """

    port: int = 0
    _process: subprocess.Popen[bytes] | None = None
    log: Path = Path(os.devnull)

    def start(self) -> DynaliteServer:
        if self.port:
            check_port_free(self.port)
        self.port = self.port or free_port()
        self.log = Path(tempfile.gettempdir()) / f"cutover-dynalite-{self.port}.log"
        with self.log.open("wb") as log:  # why it died, if it does
            self._process = subprocess.Popen(
                [*dynalite_command(), "--port", str(self.port), "--host", LOOPBACK], stdout=log, stderr=log
            )
        try:
            _wait_for_port(self.port)
        except ConfigError:
            self.stop()
            raise
        return self

    def died(self) -> str | None:
        """None while running; else its exit code and the end of its log (for a test's failure)."""
        if self._process is None or self._process.poll() is None:
            return None
        tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        return f"dynalite on port {self.port} exited with {self._process.returncode}: {tail}"

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex((LOOPBACK, port)) == 0:
                return
        time.sleep(0.05)
    raise ConfigError(f"local backend did not start listening on {LOOPBACK}:{port} within {timeout:.0f}s")


def init_backend(settings: Settings, clients: Clients | None = None, *, legacy_streams: bool = True) -> list[str]:
    """Create whatever the migration definition needs and is missing: each source role's legacy table
    (`Names.legacy_specs`, GSIs and stream), the target (`Names.v3_spec`), cutover's own tables, the
    API's table, each role's on-failure queue and the read-source parameter. Returns what was created.

    Refuses an endpoint-less (real AWS) target: there, resources come from CDK (`infra/`).
    `legacy_streams=False` creates the legacy tables without streams, as they were before cutover
    was deployed; `enable_legacy_streams` turns them on later.
    """
    if not settings.is_local:
        raise ConfigError(
            "cutover init only creates resources on a local endpoint; pass --endpoint-url "
            "(real AWS resources are created by `npx aws-cdk deploy`, see runbooks/deploy.md)"
        )
    clients = clients or Clients(settings)
    ddb = clients.dynamodb
    existing = set(ddb.get_paginator("list_tables").paginate().build_full_result().get("TableNames", []))
    created: list[str] = []
    for spec in settings.names.all_specs():
        if spec.name not in existing:
            try:
                ddb.create_table(**spec.create_table_kwargs(stream=None if legacy_streams else False))
                created.append(spec.name)
            except ddb.exceptions.ResourceInUseException:
                pass  # another init (e.g. `cutover local` still starting) created it meanwhile
    for name in created:
        # moto creates tables ACTIVE; dynalite (like AWS) goes through CREATING first
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    for source in settings.names.roles:  # the replicator's on-failure queues (`cutover dlq`); CreateQueue is idempotent
        queue = settings.names.failure_queue(source)
        if not clients.sqs.list_queues(QueueNamePrefix=queue).get("QueueUrls"):
            clients.sqs.create_queue(QueueName=queue)
            created.append(queue)
    parameter = settings.names.read_source_parameter
    try:
        clients.ssm.put_parameter(Name=parameter, Value="legacy", Type="String", Overwrite=False)
        created.append(parameter)
    except clients.ssm.exceptions.ParameterAlreadyExists:
        pass
    return created


def enable_legacy_streams(settings: Settings, clients: Clients) -> list[str]:
    """Turn on NEW_AND_OLD_IMAGES streams where a legacy table has none. Returns the tables changed."""
    changed: list[str] = []
    for spec in settings.names.legacy_specs():
        table = clients.dynamodb.describe_table(TableName=spec.name)["Table"]
        if not table.get("StreamSpecification", {}).get("StreamEnabled"):
            clients.dynamodb.update_table(
                TableName=spec.name,
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            )
            changed.append(spec.name)
    return changed


@dataclass
class LocalServerProcess(_Endpoint):
    """The same moto server in a child process: it gets its own interpreter (and GIL), so a
    client in this process and the server use both cores. Used by the benchmarks."""

    port: int = 0
    _proc: Any = None

    def start(self) -> LocalServerProcess:
        import subprocess
        import sys

        self.port = self.port or free_port()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, timeout=30.0)
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except Exception:  # noqa: BLE001 - a server busy freeing a large table: make sure it ends
                self._proc.kill()
                self._proc.wait(timeout=10)
            self._proc = None
