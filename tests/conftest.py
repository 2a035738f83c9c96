"""Shared fixtures and the test layers.

Layers are folders, and each folder carries its marker (added here, so the two cannot drift):
  unit/ -> unit, properties/ -> properties (in-process moto at most, no server, no CDK),
  integration/ -> server (the moto server over HTTP), e2e/ -> server + e2e (the CLI end to end,
  subprocesses), infrastructure/ -> infra (synthesizes the CDK app).
`make unit`, `make integration`, `make e2e` and `make infra` run one layer each; `make test` runs all.
The moto server is started once per session on a free loopback port.
A run must leave the checkout as it found it (`git status --porcelain --ignored` before == after):
the session fails otherwise, naming what appeared, so a report or build written into the clone
is caught by the run that wrote it.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from repo_hygiene import REPO, STATUS_BEFORE, git_root, status_changes, status_snapshot  # tests/ on sys.path

os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from cutover.clients import Clients
from cutover.settings import Settings
from cutover_cli.local_backend import DynaliteServer, LocalServer, init_backend

# A shell starts a background job (`make test &`, a CI step run with `&`) with SIGINT ignored, and
# an ignored signal stays ignored across exec: the `cutover` children of the Ctrl-C tests would
# never see theirs and hang (seen: `cutover api` in tests/e2e/test_runbook_outputs.py). A caught
# signal is reset to its default on exec, so Python's own handler here restores it for them.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

LAYER_MARKERS = {
    "unit": ("unit",),
    "properties": ("properties",),
    "integration": ("server",),
    "e2e": ("server", "e2e"),
    "infrastructure": ("infra",),
}
IN_PROCESS_LAYERS = ("unit", "properties")
TESTS = Path(__file__).resolve().parent


def pytest_sessionstart(session: pytest.Session) -> None:
    """Record the checkout's status; no git (or no checkout, e.g. an unpacked sdist) means no check."""
    root = git_root(REPO)
    before = status_snapshot(root) if root is not None else None
    if root is not None and before is not None:
        session.config.stash[STATUS_BEFORE] = (root, before)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session if the run changed the checkout (caches and bytecode aside)."""
    if STATUS_BEFORE not in session.config.stash:
        return
    root, before = session.config.stash[STATUS_BEFORE]
    after = status_snapshot(root)
    if after is None:
        return
    changes = status_changes(before, after)
    if not changes:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = (
        f"this test run changed the checkout {root} (`git status --porcelain --ignored`, + appeared, - vanished):\n"
        + "\n".join(f"  {line}" for line in changes)
        + "\nmake the test that wrote it use tmp_path (or cwd=tmp_path / monkeypatch.chdir), then delete the files;"
        " if you edited the tree yourself during the run, run again"
    )
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line(message, red=True, bold=True)
    else:
        print(message)
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test by its folder, and refuse a server test in a layer that must not need one."""
    for item in items:
        layer = Path(item.fspath).resolve().relative_to(TESTS).parts[0]
        for marker in LAYER_MARKERS.get(layer, ()):
            item.add_marker(marker)
        if layer in IN_PROCESS_LAYERS and "moto_server" in getattr(item, "fixturenames", ()):
            raise pytest.UsageError(f"{item.nodeid} uses the moto server: move it to tests/integration or tests/e2e")


@pytest.fixture
def aws_memory() -> Iterator[tuple[Settings, Clients]]:
    """In-process moto (no server) with every cutover and legacy table created: the unit layer's backend."""
    from moto import mock_aws

    with mock_aws():
        settings = Settings(service="unit", region="us-east-1")
        clients = Clients(settings)
        create_tables(clients, settings)
        yield settings, clients


def create_tables(clients: Clients, settings: Settings) -> None:
    """Every table `cutover.names` declares (legacy, v3, cutover's own), as `cutover init` would."""
    for spec in settings.names.all_specs():
        clients.dynamodb.create_table(**spec.create_table_kwargs())


# The DynamoDB-only suites run on both engines: moto, and dynalite (an independent implementation,
# stricter than moto in places). Their other services (SSM for the flag) stay on moto. Where the
# engines disagree, tests follow AWS's documented behaviour (DESIGN.md, "Two engines").
ENGINE_MATRIX = {
    "integration/test_core_write_path.py",
    "integration/test_backfill_cli.py",
    "integration/test_reconcile_cli.py",
    "integration/test_replicator_events.py",
    "integration/test_api_routes.py",
    "integration/test_engines.py",
    "e2e/test_backfill_crash.py",
}
ENGINES = ("moto", "dynalite")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize the engine-matrix modules' `settings` over both engines."""
    module = Path(str(metafunc.definition.fspath)).resolve().relative_to(TESTS).as_posix()
    if module in ENGINE_MATRIX and "settings" in metafunc.fixturenames:
        metafunc.parametrize("engine", ENGINES, indirect=True)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    """`moto` unless the test is in ENGINE_MATRIX (then each engine in turn)."""
    return getattr(request, "param", "moto")


@pytest.fixture(scope="session")
def moto_server():
    """A real HTTP endpoint (moto server) for integration tests."""
    with LocalServer() as server:
        yield server


@pytest.fixture(scope="session")
def dynalite_server():
    """dynalite on a free loopback port, started on first use and stopped at the end of the session."""
    with DynaliteServer() as server:
        yield server


def _report_dead(server: DynaliteServer) -> None:
    """A test that saw connection errors learns why: the engine died, and its own last words."""
    if server.died():
        raise AssertionError(server.died())


@pytest.fixture
def settings(request: pytest.FixtureRequest, moto_server, engine: str) -> Settings:
    """Fresh, isolated resources per test: a unique service name on the shared server(s)."""
    dynalite = request.getfixturevalue("dynalite_server") if engine == "dynalite" else None
    if dynalite is not None:
        assert dynalite.died() is None, dynalite.died()
        request.addfinalizer(lambda: _report_dead(dynalite))
    dynamodb = dynalite.endpoint_url if dynalite is not None else None
    if dynamodb:  # CLI runs, subprocesses and Lambda handlers under test find it in the environment
        request.getfixturevalue("monkeypatch").setenv("CUTOVER_DYNAMODB_ENDPOINT_URL", dynamodb)
    s = Settings(
        service=f"t{uuid.uuid4().hex[:10]}",
        stage="dev",
        region="us-east-1",
        endpoint_url=moto_server.endpoint_url,
        dynamodb_endpoint_url=dynamodb,
    )
    init_backend(s)
    return s


@pytest.fixture
def clients(settings) -> Clients:
    return Clients(settings)
