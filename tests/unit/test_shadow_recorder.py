"""The API's shadow evidence recorder (app_handlers.shadow_recorder): bounded, off the read's path."""

from __future__ import annotations

import threading

from app_handlers.routing import Comparison, Router
from app_handlers.shadow_recorder import ShadowRecorder
from controlplane.shadow_evidence import Batch
from controlplane.shadow_evidence import digest as key_digest


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def event(self, metric, message, level="warning", **fields) -> None:
        self.seen.append((metric, message))


class Store:
    """A ShadowStore double: keeps what was written; `gate` blocks writes, `fail` raises."""

    table = "api-table"

    def __init__(self, fail: bool = False, gate: threading.Event | None = None) -> None:
        self.batches: list[Batch] = []
        self.fail, self.gate = fail, gate
        self.entered = threading.Event()  # a write has started (its batch is taken)

    def write(self, batch: Batch) -> None:
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(30)
        if self.fail:
            raise RuntimeError("AccessDenied")
        self.batches.append(batch)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _recorder(store, clock=None, **kw) -> tuple[ShadowRecorder, Events]:
    events = Events()
    return ShadowRecorder(store, lambda: "7", events, ("a", "b"), clock=clock or Clock(), **kw), events


def test_counts_are_aggregated_and_written_at_most_once_per_interval():
    # Given a recorder flushing every 5 s (on a clock the test moves)
    store, clock = Store(), Clock()
    rec, _ = _recorder(store, clock, flush_seconds=5.0)
    # When 50 matching reads of `a` on 10 keys happen within the interval, then one after it
    for i in range(50):
        rec.record("a", {"userId": f"u{i % 10}"}, "match")
    clock.t = 6.0
    rec.record("a", {"userId": "u0"}, "skipped")
    rec.drain()
    # Then they were written as one counter per kind of read (the declared `b` too, at zero) and
    # ten distinct keys, in one flush (plus the drain's, empty: nothing written)
    assert len(store.batches) == 1, store.batches
    (batch,) = store.batches
    assert batch.counts[("7", "a")]["match"] == 50 and batch.counts[("7", "a")]["skipped"] == 1
    assert sum(batch.counts[("7", "b")].values()) == 0
    assert len(batch.keys) == 10


def test_distinct_keys_are_bounded_per_kind_of_read_and_written_once():
    store = Store()
    rec, _ = _recorder(store, max_keys=3)
    for i in range(10):
        rec.record("a", {"userId": f"u{i}"}, "match")
    rec.drain()
    for i in range(10):
        rec.record("a", {"userId": f"u{i}"}, "match")
    rec.drain()
    assert sum(len(b.keys) for b in store.batches) == 3
    assert sum(b.counts[("7", "a")]["match"] for b in store.batches) == 20  # the count stays exact


def test_a_mismatch_is_flushed_at_once_with_its_key_attributes_and_time():
    store = Store()
    rec, _ = _recorder(store, flush_seconds=3600)
    rec.record("a", {"userId": "u1"}, "mismatch", ["name"])
    rec.drain()
    (m,) = store.batches[0].mismatches.values()
    assert (m.op, m.keys, m.differing, m.count, m.phase) == ("a", {"userId": "u1"}, ["name"], 1, "7")
    assert m.first_at == m.last_at and m.last_at.endswith("Z")
    assert ("a", key_digest({"userId": "u1"})) in store.batches[0].mismatches


def test_a_blocked_write_never_delays_the_read():
    # Given a store whose write hangs
    gate = threading.Event()
    store = Store(gate=gate)
    events = Events()
    rec = ShadowRecorder(store, lambda: "7", events, ("get",), flush_seconds=0.0)
    router = Router(_Shadow(), events, shadow_timeout=5.0, evidence=rec)
    try:
        # When shadow reads are served while the first flush hangs
        served = [router.read("get", {"id": i}, lambda: {"id": 1}, lambda: {"id": 1}).value for i in range(5)]
        # Then every read was answered (from legacy) with the write still blocked
        assert served == [{"id": 1}] * 5 and not store.batches
    finally:
        gate.set()
    rec.drain()
    assert sum(b.counts[("7", "get")]["match"] for b in store.batches) == 5


def test_a_failed_write_is_logged_counted_and_kept_for_the_next_flush():
    store = Store(fail=True)
    rec, events = _recorder(store)
    rec.record("a", {"userId": "u1"}, "mismatch", ["name"])
    rec.drain()  # the mismatch's own flush failed, then the drain's
    assert {m for m, _ in events.seen} == {"ShadowRecordFailed"}
    assert "dynamodb:UpdateItem" in events.seen[0][1]
    store.fail = False
    rec.drain()
    (batch,) = store.batches
    assert batch.counts[("7", "a")]["mismatch"] == 1 and len(batch.mismatches) == 1


def test_a_recorder_that_raises_never_fails_the_read():
    class Broken:
        def record(self, *a, **k):
            raise RuntimeError("boom")

    events = Events()
    router = Router(_Shadow(), events, evidence=Broken())
    assert router.read("get", {"id": 1}, lambda: "L", lambda: "L").value == "L"
    assert [m for m, _ in events.seen] == ["ShadowRecordFailed"]


def test_outcomes_follow_the_comparison():
    class Seen:
        def __init__(self) -> None:
            self.outcomes: list[str] = []

        def record(self, op, keys, outcome, differing=()):
            self.outcomes.append(outcome)

    seen = Seen()
    router = Router(_Shadow(), Events(), evidence=seen)
    router.read("get", {}, lambda: {"a": 1}, lambda: {"a": 1})
    router.read("get", {}, lambda: {"a": 1}, lambda: {"a": 2})
    router.read("get", {}, lambda: {"a": 1}, lambda: {"a": 2}, compare=lambda _l, _v: Comparison((), ["a"]))
    router.read("get", {}, lambda: {"a": 1}, lambda: (_ for _ in ()).throw(RuntimeError("v3 down")))
    assert seen.outcomes == ["match", "mismatch", "uncomparable", "error"]


class _Shadow:
    def current(self):
        from app_handlers.routing import ReadSource

        return ReadSource.SHADOW


def test_a_mismatch_seen_during_a_flush_is_written_without_waiting_for_another_read():
    # Given a first mismatch whose flush hangs, and a second mismatch recorded meanwhile
    gate = threading.Event()
    store = Store(gate=gate)
    rec, _ = _recorder(store, flush_seconds=3600)
    rec.record("a", {"userId": "u1"}, "mismatch", ["name"])
    assert store.entered.wait(30)  # the first flush holds its batch
    rec.record("a", {"userId": "u2"}, "mismatch", ["name"])
    # When the first write returns, and no read comes after it
    gate.set()
    done = threading.Event()
    for _ in range(300):  # up to 30 s under load; returns as soon as both are written
        if sum(len(b.mismatches) for b in store.batches) == 2:
            done.set()
            break
        done.wait(0.1)
    # Then the running flush wrote the second mismatch too
    assert done.is_set(), store.batches


def test_a_flush_that_fails_part_way_retries_only_what_was_not_written():
    # Given a store that writes the mismatch, then fails (as ShadowStore takes each written part off)
    class PartWay(Store):
        def write(self, batch: Batch) -> None:
            if self.fail:
                batch.mismatches.clear()  # written before the failure
                raise RuntimeError("throttled")
            super().write(batch)

    store = PartWay(fail=True)
    rec, _ = _recorder(store, flush_seconds=3600)
    rec.record("a", {"userId": "u1"}, "mismatch", ["name"])
    rec.drain()
    # When the next flush succeeds
    store.fail = False
    rec.drain()
    # Then the counts are written once, and the mismatch is not written again
    assert sum(b.counts[("7", "a")]["mismatch"] for b in store.batches) == 1
    assert not any(b.mismatches for b in store.batches)


def test_settle_waits_for_a_running_flush_so_a_mismatch_is_written_before_lambda_freezes():
    # Given a mismatch whose write is still running (the store is slow)
    gate = threading.Event()
    store = Store(gate=gate)
    rec, _ = _recorder(store)
    rec.record("a", {"userId": "u1"}, "mismatch", ["name"])
    assert store.entered.wait(5)
    threading.Timer(0.2, gate.set).start()
    # When the invocation ends (the Lambda handler settles the recorder)
    rec.settle(timeout=5)
    # Then the write has finished: nothing waits for a thaw that may never come
    assert store.batches and store.batches[0].mismatches
    # And settling with nothing running, or past a slow write's timeout, returns without raising
    rec.settle()
    slow = Store(gate=threading.Event())
    rec2, _ = _recorder(slow)
    rec2.record("a", {"userId": "u2"}, "mismatch", ["name"])
    assert slow.entered.wait(5)
    rec2.settle(timeout=0.05)
    slow.gate.set()
