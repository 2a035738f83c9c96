"""One backfill at a time (issue 19.8): a lease in the checkpoints table, taken, kept alive and released.

Two runs at once doubled the load `--rate` was meant to cap and mixed their counts. The lease is
judged on the backend's clock; these tests step that clock by hand (`clock=`) where expiry matters.
"""

from __future__ import annotations

import time

import pytest

from backfill.errors import LeaseHeldError
from backfill.lease import LOCAL_TTL, BackfillLease, Holder, current_lease, heartbeat
from backfill.runner import run_backfill
from cutover.codec import to_ddb
from cutover.state import CheckpointStore


@pytest.fixture
def env(aws_memory):
    settings, clients = aws_memory
    for i in range(6):
        clients.dynamodb.put_item(
            TableName=settings.names.source_table("users"), Item=to_ddb({"userId": f"u{i}", "email": f"u{i}@x"})
        )
    return settings, clients


def _store(settings, clients) -> CheckpointStore:
    return CheckpointStore(clients.dynamodb, settings.names.checkpoints_table)


class Clock:
    """The backend's clock, stepped by hand (starting at the real time: the lease only compares it with itself)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _lease(store, token: str, clock: Clock) -> BackfillLease:
    return BackfillLease(store, Holder(token, f"run-{token}", "host pid 1", "cutover backfill"), LOCAL_TTL, clock=clock)


class OnPage:
    """A ProgressSink that, at the first page of the run it follows, does `action` (a second run)."""

    def __init__(self, action) -> None:
        self.action, self.seen = action, []

    def add_table(self, label, total):
        pass

    def advance(self, label, n):
        if n and not self.seen:  # a page was copied (the runner also advances by 0 before it starts)
            self.seen.append(self.action())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


def test_a_second_local_run_is_refused_in_one_line_naming_the_first(env):
    settings, clients = env

    def second_run():
        with pytest.raises(LeaseHeldError) as refused:
            run_backfill(settings, clients, tables=("users",), segments=2, require_sync=False, command="cutover b2")
        return str(refused.value)

    # Given a run is copying (its first page written), When a second run starts in another terminal
    watcher = OnPage(second_run)
    first = run_backfill(
        settings,
        clients,
        segments=2,
        workers=1,
        page_size=2,
        require_sync=False,
        progress=watcher,
        command="cutover b1",
    )
    # Then the second is refused with one line naming the holder, when it expires and the way out
    (line,) = watcher.seen
    assert "\n" not in line and first.run_id in line and "cutover b1" in line
    assert "expires" in line and "--steal-lease" in line
    # And the first ran on alone to completion, and released the lease at its end
    assert first.complete and first.tables["users"].scanned == 6
    assert current_lease(_store(settings, clients)) is None
    # So a run after it starts at once
    assert run_backfill(settings, clients, tables=("users",), segments=2, require_sync=False).complete


def test_an_expired_lease_is_taken_over_and_a_live_one_is_not(env):
    settings, clients = env
    store, clock = _store(settings, clients), Clock()
    # Given holder A took the lease and died (no heartbeat)
    _lease(store, "a", clock).acquire()
    b = _lease(store, "b", clock)
    # When B tries before the TTL has passed on the backend's clock, Then it is refused naming A
    clock.now += LOCAL_TTL - 1
    with pytest.raises(LeaseHeldError, match="run-a"):
        b.acquire()
    # When B tries after it, Then B holds it
    clock.now += 2
    b.acquire()
    assert current_lease(store, clock=clock)["run_id"] == "run-b"


def test_the_holders_heartbeat_keeps_it_and_a_lost_lease_is_noticed(env):
    settings, clients = env
    store, clock = _store(settings, clients), Clock()
    a, b = _lease(store, "a", clock), _lease(store, "b", clock)
    a.acquire()
    # Given A renews every TTL/3, When far more than one TTL passes in all
    for _ in range(6):
        clock.now += LOCAL_TTL / 3
        assert a.renew()
        # Then B is refused each time
        with pytest.raises(LeaseHeldError):
            b.acquire()
    # When B steals it (the operator is sure A is dead), Then A's next renewal says it lost it
    b.acquire(steal=True)
    assert not a.renew()
    # And A's release does not free B's lease
    a.release()
    assert current_lease(store, clock=clock)["run_id"] == "run-b"


def test_the_lease_is_released_when_the_run_fails_or_is_interrupted(env, monkeypatch):
    settings, clients = env

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("backfill.runner.run_segment_on", ctrl_c)
    # When a run is interrupted (Ctrl-C in a segment)
    with pytest.raises(KeyboardInterrupt):
        run_backfill(settings, clients, tables=("users",), segments=1, require_sync=False)
    # Then it released the lease on its way out, so resuming it starts at once
    assert current_lease(_store(settings, clients)) is None
    monkeypatch.undo()
    assert run_backfill(settings, clients, tables=("users",), segments=1, require_sync=False).complete


def test_the_same_remote_run_re_takes_its_own_lease(env):
    settings, clients = env
    store, clock = _store(settings, clients), Clock()
    # Given a remote run's CLI took the lease under the run id, When one of its Lambdas renews it
    BackfillLease(store, Holder("r1", "r1", "AWS", "cutover backfill --remote"), 600, clock=clock).acquire()
    clock.now += 10
    BackfillLease(store, Holder("r1", "r1", "AWS (segment Lambda)", ""), 600, clock=clock).acquire()
    # Then it holds on, keeping when it was taken; and another run is refused
    held = current_lease(store, clock=clock)
    assert held["run_id"] == "r1" and held["taken_at"] < held["heartbeat_at"]
    with pytest.raises(LeaseHeldError, match="r1"):
        _lease(store, "a", clock).acquire()


def test_the_heartbeat_thread_keeps_the_lease_past_its_ttl_and_reports_a_steal(env):
    settings, clients = env
    store = _store(settings, clients)
    # Given a lease of 0.3 s renewed from the heartbeat thread (every 0.1 s), on the real clock
    a = BackfillLease(store, Holder("a", "run-a", "h", "c"), 0.3, clock=time.time)
    b = BackfillLease(store, Holder("b", "run-b", "h", "c"), 0.3, clock=time.time)
    lost = []
    a.acquire()
    with heartbeat(a, lambda: lost.append(1)):
        # When three TTLs pass, Then B is still refused: the heartbeat kept it
        time.sleep(0.9)
        with pytest.raises(LeaseHeldError, match="run-a"):
            b.acquire()
        # When B steals it, Then A's heartbeat notices at its next beat (a run then stops)
        b.acquire(steal=True)
        deadline = time.monotonic() + 2
        while not lost and time.monotonic() < deadline:
            time.sleep(0.05)
    assert lost == [1]


def test_a_run_that_loses_its_lease_stops_after_its_pages_in_flight(env, monkeypatch):
    from backfill.errors import LeaseLostError

    settings, clients = env
    store = _store(settings, clients)
    monkeypatch.setattr("backfill.runner.LOCAL_TTL", 0.3)  # a heartbeat every 0.1 s
    thief = BackfillLease(store, Holder("t", "run-t", "h", "cutover backfill --steal-lease"), LOCAL_TTL)

    def steal():
        thief.acquire(steal=True)
        time.sleep(1.0)  # the run's next beat (every 0.1 s) finds the lease gone

    # Given a run of one page per item, When another run steals its lease after the first page
    with pytest.raises(LeaseLostError, match="lost its lease"):
        run_backfill(
            settings, clients, tables=("users",), segments=1, page_size=1, require_sync=False, progress=OnPage(steal)
        )
    # Then it stopped before the end (its cursor saved) and left the thief's lease alone
    assert current_lease(store)["run_id"] == "run-t"
    assert store.get("backfill#users#1", "0")["done"] is False


def test_a_run_killed_on_this_host_is_taken_over_at_once_and_a_live_one_is_not(env):
    import os
    import socket
    import subprocess
    import sys

    settings, clients = env
    store = _store(settings, clients)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    here = socket.gethostname()
    # Given the lease is held by a local run on this host whose process is alive (this one)
    BackfillLease(store, Holder("local:live", "run-live", f"{here} pid {os.getpid()}", "c"), LOCAL_TTL).acquire()
    # When a run starts, Then it is refused
    with pytest.raises(LeaseHeldError, match="run-live"):
        run_backfill(settings, clients, tables=("users",), segments=1, require_sync=False)
    # Given instead the holder's process is gone (kill -9), When the same command runs again at once
    dead = Holder("local:dead", "run-dead", f"{here} pid {int(gone.stdout)}", "c")
    BackfillLease(store, dead, LOCAL_TTL).acquire(steal=True)
    said = []
    summary = run_backfill(settings, clients, tables=("users",), segments=1, require_sync=False, announce=said.append)
    # Then it takes the lease over without waiting out the TTL, and says so
    assert summary.complete and any("no longer running: taken over" in line for line in said)


def test_status_names_the_lease_holder_and_none_once_released(env):
    import json

    from click.testing import CliRunner

    from cutover_cli.app import main

    settings, clients = env
    args = ["status", "--json", "--service", "unit", "--region", "us-east-1"]

    def status() -> dict:
        result = CliRunner().invoke(main, args, env={"CUTOVER_ENDPOINT_URL": "", "CUTOVER_MIGRATION": ""})
        assert result.exit_code == 0, result.output
        return json.loads(result.output)["backfill_lease"]

    # Given a run holding the lease (on the backend's clock)
    holder = Holder("t1", "run-t1", "host pid 1", "cutover backfill")
    lease = BackfillLease(_store(settings, clients), holder, LOCAL_TTL)
    assert lease.acquire()
    # When status is asked, Then it names that run; once released, none
    assert {k: status()[k] for k in ("run_id", "where", "command")} == {
        "run_id": "run-t1",
        "where": "host pid 1",
        "command": "cutover backfill",
    }
    lease.release()
    assert status() is None
