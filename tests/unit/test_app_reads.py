"""Read dispatch by flag value, with in-memory repositories (no backend)."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from aws_lambda_powertools import Logger

from app_handlers.read_source import ReadSource
from app_handlers.reads import ReadService
from app_handlers.routing import FlagReader, MemoryFlagValues
from app_handlers.telemetry import Telemetry


class Repo:
    def __init__(self, name, users, delay=0.0, fail=False):
        self.name, self.users, self.delay, self.fail = name, users, delay, fail

    def get_user(self, user_id):
        time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("v3 is down")
        return self.users.get(user_id)

    def find_by_email(self, email):
        return next((u for u in self.users.values() if u["email"] == email), None)

    def list_orders(self, user_id):
        return []


U = {"u1": {"userId": "u1", "email": "a@b.co"}}


def _svc(mode, v3, timeout=0.2):
    telemetry = Telemetry(Logger(service="unit-reads", logger_handler=logging.NullHandler()))
    return ReadService(Repo("legacy", U), v3, lambda: ReadSource(mode), telemetry, shadow_timeout=timeout), telemetry


class GatedV3(Repo):
    """v3 that holds every read until `release` is set (no timing involved), and counts reads
    started and finished; `answer` is what it returns once released."""

    def __init__(self, answer):
        super().__init__("v3", {})
        self.answer, self.release = answer, threading.Event()
        self.started = self.finished = 0
        self._lock = threading.Lock()

    def get_user(self, user_id):
        with self._lock:
            self.started += 1
        self.release.wait()
        with self._lock:
            self.finished += 1
        return self.answer.get(user_id)


@pytest.fixture
def gated():
    """Makes GatedV3s and releases every one at teardown, so a failed test leaves no thread held
    (the shadow pool's workers are joined at interpreter exit)."""
    made = []
    yield lambda answer: made.append(GatedV3(answer)) or made[-1]
    for v3 in made:
        v3.release.set()


# A bound that only a read blocked on the held v3 can reach: v3 is never released within it.
STUCK = 60.0


def _in_thread(fn):
    """Run `fn` in a thread; its result, or AssertionError if it is still blocked after STUCK seconds
    (a read queued behind the held v3 fails the test instead of hanging the suite)."""
    out = []
    worker = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    worker.start()
    worker.join(STUCK)
    assert not worker.is_alive(), "the read waited for the held v3"
    return out[0]


def test_shadow_time_boxes_a_slow_v3(gated):
    # Given v3 that does not answer until released
    v3 = gated(U)
    svc, t = _svc("shadow", v3, timeout=0.1)
    # When reading in shadow mode, Then legacy answers while v3 is still held, and the timeout is counted
    served = _in_thread(lambda: svc.get_user("u1"))
    assert served.value == U["u1"] and served.source == "legacy"
    assert (v3.started, v3.finished, t.counts["ShadowV3Error"]) == (1, 0, 1)


def test_shadow_never_serves_v3_errors():
    svc, t = _svc("shadow", Repo("v3", U, fail=True))
    assert svc.get_user("u1").value == U["u1"] and t.counts["ShadowV3Error"] == 1


def test_v3_error_falls_back_to_legacy():
    svc, t = _svc("v3", Repo("v3", U, fail=True))
    served = svc.get_user("u1")
    assert (served.source, t.counts["V3Error"], t.counts["V3Fallback"]) == ("legacy", 1, 1)


def test_orders_of_an_absent_user_is_none_not_empty():
    svc, _ = _svc("legacy", Repo("v3", {}))
    assert svc.orders_of("ghost").value is None and svc.orders_of("u1").value == []


def test_a_hanging_v3_is_skipped_not_queued_and_counted(gated):
    # Given v3 that hangs until released (its answer then differs from legacy's in one attribute),
    # a 50 ms time box and at most 2 shadow reads in flight
    telemetry = Telemetry(Logger(service="unit-reads", logger_handler=logging.NullHandler()))
    v3 = gated({"u1": {**U["u1"], "email": "other@b.co"}})
    svc = ReadService(
        Repo("legacy", U), v3, lambda: ReadSource.SHADOW, telemetry, shadow_timeout=0.05, shadow_max_in_flight=2
    )
    # When 6 reads arrive while v3 hangs
    served = _in_thread(lambda: [svc.get_user("u1") for _ in range(6)])
    # Then every read is served by legacy while v3 is still held; two took a slot and timed out, the
    # other four skipped the comparison without reaching v3, and both outcomes are counted
    assert all(s.source == "legacy" and s.value == U["u1"] for s in served)
    assert (telemetry.counts["ShadowV3Error"], telemetry.counts["ShadowSkipped"]) == (2, 4)
    assert (v3.started, v3.finished) == (2, 0)
    # And once v3 answers again, the two held reads finish and give their slots back (nothing was
    # queued behind them: v3 saw no other read) ...
    v3.release.set()
    assert svc._router.wait_idle(STUCK), "a shadow slot was never given back"
    assert (v3.started, v3.finished) == (2, 2)
    # ... and the next read is compared: a time box no load can outlast (only the hang above needed a
    # short one), and v3's differing e-mail is reported as a mismatch
    svc._router._timeout = STUCK
    assert svc.get_user("u1").source == "legacy"
    assert v3.started == 3
    assert telemetry.counts["ShadowMismatch"] == 1
    assert (telemetry.counts["ShadowSkipped"], telemetry.counts["ShadowV3Error"]) == (4, 2)


def test_the_flag_can_be_the_one_reader_itself():
    # Given the seed's reads built on a FlagReader (not a function) whose store holds an unknown value
    telemetry = Telemetry(Logger(service="unit-reads", logger_handler=logging.NullHandler()))
    flag = FlagReader(MemoryFlagValues("v4"), telemetry)
    svc = ReadService(Repo("legacy", U), Repo("v3", U, fail=True), flag, telemetry)
    # When read, Then legacy answers, v3 is never read, and the reader said why
    assert svc.get_user("u1").source == "legacy"
    assert (telemetry.counts["FlagInvalid"], telemetry.counts["V3Error"]) == (1, 0)
