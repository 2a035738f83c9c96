"""Read dispatch by flag value, with in-memory repositories (no backend)."""

from __future__ import annotations

import logging
import time

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


def test_shadow_time_boxes_a_slow_v3():
    # Given v3 taking 2 s
    svc, t = _svc("shadow", Repo("v3", U, delay=2.0), timeout=0.1)
    # When reading in shadow mode, Then legacy answers within the time box and the timeout is counted
    started = time.monotonic()
    served = svc.get_user("u1")
    assert served.value == U["u1"] and served.source == "legacy"
    assert time.monotonic() - started < 1.0 and t.counts["ShadowV3Error"] == 1


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


def test_a_hanging_v3_is_skipped_not_queued_and_counted():
    # Given v3 hanging for 1 s on every read, a 50 ms time box and at most 2 shadow reads in flight
    telemetry = Telemetry(Logger(service="unit-reads", logger_handler=logging.NullHandler()))
    svc = ReadService(
        Repo("legacy", U),
        Repo("v3", U, delay=1.0),
        lambda: ReadSource.SHADOW,
        telemetry,
        shadow_timeout=0.05,
        shadow_max_in_flight=2,
    )
    # When 6 reads arrive while v3 hangs
    started = time.monotonic()
    served = [svc.get_user("u1") for _ in range(6)]
    elapsed = time.monotonic() - started
    # Then every read is served by legacy; two time out, the rest skip the comparison without waiting,
    # and both outcomes are counted (ShadowV3Error for the time-outs, ShadowSkipped for the rest)
    assert all(s.source == "legacy" and s.value == U["u1"] for s in served)
    assert (telemetry.counts["ShadowV3Error"], telemetry.counts["ShadowSkipped"]) == (2, 4)
    assert elapsed < 0.5
    # And once v3 answers again, comparison resumes
    time.sleep(1.1)
    svc._v3.delay = 0.0
    svc.get_user("u1")
    assert telemetry.counts["ShadowSkipped"] == 4 and telemetry.counts["ShadowV3Error"] == 2


def test_the_flag_can_be_the_one_reader_itself():
    # Given the seed's reads built on a FlagReader (not a function) whose store holds an unknown value
    telemetry = Telemetry(Logger(service="unit-reads", logger_handler=logging.NullHandler()))
    flag = FlagReader(MemoryFlagValues("v4"), telemetry)
    svc = ReadService(Repo("legacy", U), Repo("v3", U, fail=True), flag, telemetry)
    # When read, Then legacy answers, v3 is never read, and the reader said why
    assert svc.get_user("u1").source == "legacy"
    assert (telemetry.counts["FlagInvalid"], telemetry.counts["V3Error"]) == (1, 0)
