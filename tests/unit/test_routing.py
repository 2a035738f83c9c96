"""The read-routing library with two plain reader functions, an in-memory flag and marker store (no AWS).

Slowness is modelled with `threading.Event` gates, never with sleeps and elapsed-time thresholds:
a v3 read that waits on a gate is slower than any time box, however loaded the machine is.
"""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from app_handlers.routing import (
    MISSING_IN_V3,
    Comparison,
    Expected,
    FlagReader,
    FlagRefusesWrites,
    FlagUnavailable,
    ItemCompare,
    Marker,
    MemoryFlagValues,
    MemoryMarks,
    ReadSource,
    Router,
    differences,
)

GATE_SECONDS = 30  # how long a gated reader waits at most: a safety net for a failing test, never reached


class Recorder:
    """`routing.Events` in memory: counts per metric and every event's fields."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.events: list[dict[str, Any]] = []

    def event(self, metric: str, message: str, level: str = "warning", **fields: Any) -> None:
        self.counts[metric] += 1
        self.events.append({"metric": metric, "message": message, "level": level, **fields})

    def of(self, metric: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["metric"] == metric]


class Reader:
    """One side's reader function: returns `value` (or raises `error`), optionally held at a gate."""

    def __init__(self, value: Any = None, error: Exception | None = None, gate: threading.Event | None = None) -> None:
        self.value, self.error, self.gate, self.calls = value, error, gate, 0

    def __call__(self) -> Any:
        self.calls += 1
        if self.gate is not None:
            assert self.gate.wait(GATE_SECONDS), "the test never opened the gate"
        if self.error is not None:
            raise self.error
        return self.value


ANN = {"id": "u1", "name": "Ann", "n": Decimal(1)}


def _router(mode: str | None, marks: MemoryMarks | None = None, **kwargs: Any) -> tuple[Router, Recorder]:
    telemetry = Recorder()
    flag = FlagReader(MemoryFlagValues(mode), telemetry)
    return Router(flag, telemetry, marks=marks, **kwargs), telemetry


# --- the flag ----------------------------------------------------------------------------------------


def test_legacy_mode_serves_legacy_and_never_calls_v3():
    router, t = _router("legacy")
    v3 = Reader(error=AssertionError("v3 must not be read"))
    served = router.read("get", {"id": "u1"}, Reader(ANN), v3)
    assert (served.value, served.source, v3.calls) == (ANN, "legacy", 0)
    assert not t.events


@pytest.mark.parametrize("raw", ["V4", "", " bogus", "writes-v3"])
def test_an_unknown_flag_value_serves_legacy_and_says_so(raw):
    router, t = _router(raw)
    v3 = Reader(ANN)
    assert router.read("get", {}, Reader(ANN), v3).source == "legacy" and v3.calls == 0
    [event] = t.events
    assert (event["metric"], event["level"], event["value"]) == ("FlagInvalid", "error", raw)
    assert repr(raw) in event["message"] and "cutover flip legacy" in event["message"]


def test_a_missing_flag_is_invalid_and_an_unreachable_store_is_unreadable():
    class Down:
        name = "the flag's store"

        def read(self) -> str | None:
            raise FlagUnavailable(ConnectionError("no route to host"), "Check the network")

    t = Recorder()
    assert FlagReader(MemoryFlagValues(None), t).current() is ReadSource.LEGACY
    assert FlagReader(Down(), t).current() is ReadSource.LEGACY
    assert [(e["metric"], e["level"]) for e in t.events] == [("FlagInvalid", "error"), ("FlagUnreadable", "error")]
    assert t.events[1]["error"] == "ConnectionError: no route to host" and "Check the network" in t.events[1]["message"]


def test_a_known_value_is_read_as_stored_around_whitespace():
    t = Recorder()
    assert [FlagReader(MemoryFlagValues(v), t).current() for v in ("shadow", " v3\n")] == [
        ReadSource.SHADOW,
        ReadSource.V3,
    ]
    assert not t.events


# --- shadow ------------------------------------------------------------------------------------------


def test_shadow_serves_legacy_and_counts_a_mismatch():
    router, t = _router("shadow", shadow_timeout=GATE_SECONDS)
    served = router.read("get", {"id": "u1"}, Reader(ANN), Reader({**ANN, "name": "Anne", "_version": "7"}))
    assert (served.value, served.source) == (ANN, "legacy")
    [mismatch] = t.of("ShadowMismatch")
    assert (mismatch["differing"], mismatch["keys"], mismatch["op"]) == (["name"], {"id": "u1"}, "get")


def test_shadow_agreeing_by_dynamodb_types_is_silent():
    router, t = _router("shadow", shadow_timeout=GATE_SECONDS)
    router.read("get", {}, Reader({**ANN, "n": Decimal("1.0")}), Reader(ANN))
    assert not t.events


def test_shadow_never_serves_a_v3_error():
    router, t = _router("shadow", shadow_timeout=GATE_SECONDS)
    served = router.read("get", {}, Reader(ANN), Reader(error=RuntimeError("v3 is down")))
    assert served.value == ANN and t.counts == Counter({"ShadowV3Error": 1})
    assert "v3 is down" in t.events[0]["error"]


def test_shadow_never_fails_a_read_on_a_failing_comparison():
    def broken(legacy: Any, v3: Any) -> Comparison:
        raise KeyError("the comparison's own lookup failed")

    router, t = _router("shadow", shadow_timeout=GATE_SECONDS)
    assert router.read("get", {}, Reader(ANN), Reader(ANN), compare=broken).value == ANN
    assert t.counts == Counter({"ShadowV3Error": 1})


def test_shadow_time_boxes_a_v3_that_does_not_answer():
    # Given v3 held at a gate the test opens only afterwards
    gate = threading.Event()
    router, t = _router("shadow", shadow_timeout=0.01)
    v3 = Reader(ANN, gate=gate)
    # When read in shadow mode, Then legacy is served and the time-out counted
    served = router.read("get", {"id": "u1"}, Reader(ANN), v3)
    assert served.value == ANN and t.counts == Counter({"ShadowV3Error": 1})
    assert "timed out" in t.events[0]["message"] and router.in_flight == 1
    # And the slot is held until v3 returns, then freed
    gate.set()
    assert router.wait_idle(GATE_SECONDS) and router.in_flight == 0


def test_shadow_is_bounded_a_busy_slot_skips_at_once_and_comparison_resumes():
    # Given at most two shadow reads in flight and v3 held at a gate
    gate = threading.Event()
    router, t = _router("shadow", shadow_timeout=0.01, shadow_max_in_flight=2)
    v3 = Reader(ANN, gate=gate)
    # When five reads arrive while v3 hangs
    served = [router.read("get", {"id": "u1"}, Reader(ANN), v3) for _ in range(5)]
    # Then all are served by legacy; two time out holding their slots, three skip without reading v3
    assert all(s.source == "legacy" and s.value == ANN for s in served)
    assert (t.counts["ShadowV3Error"], t.counts["ShadowSkipped"], v3.calls, router.in_flight) == (2, 3, 2, 2)
    # And once v3 answers again, comparison resumes: a difference is a mismatch, not a skip
    gate.set()
    assert router.wait_idle(GATE_SECONDS)
    router.read("get", {}, Reader(ANN), Reader({**ANN, "name": "Anne"}))
    assert (t.counts["ShadowSkipped"], t.counts["ShadowV3Error"], t.counts["ShadowMismatch"]) == (3, 2, 1)


def test_lists_are_compared_item_by_item_by_the_applications_identity():
    # Given a list where v3 holds one element wrongly and lacks one the transform rejects
    legacy = [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}, {"sku": "c", "qty": "bad"}]
    v3 = [{"sku": "b", "qty": 2}, {"sku": "a", "qty": 9}]  # another order: identity, not position
    compare = ItemCompare(identity=lambda e: e["sku"], comparable=lambda e: isinstance(e["qty"], int))
    router, t = _router("shadow", shadow_timeout=GATE_SECONDS)
    # When compared in shadow mode
    router.read("list", {"owner": "o1"}, Reader(legacy), Reader(v3), compare=compare)
    # Then the wrong value is a mismatch naming its element; the rejected one only uncomparable
    assert [e["differing"] for e in t.of("ShadowMismatch")] == [["a:qty"]]
    assert [e["differing"] for e in t.of("ShadowUncomparable")] == [[f"c:{MISSING_IN_V3}"]]


def test_without_an_identity_list_elements_are_matched_by_position():
    assert differences([{"x": 1}, {"x": 2}], [{"x": 1}, {"x": 3}]) == ["1:x"]
    assert differences(list(range(12)), [*range(11), 99]) == ["11:<value>"]
    assert differences(["a"], ["a", "b"]) == ["1:<missing in legacy>"]


def test_an_expected_difference_is_counted_as_its_own_metric_not_a_mismatch():
    def compare(legacy: Any, v3: Any) -> Comparison:
        return Comparison(expected=Expected("ShadowNormalisedHit", "v3 normalises; expected", {"id": "u1"}))

    router, t = _router("shadow", shadow_timeout=GATE_SECONDS)
    router.read("find", {"q": "ANN"}, Reader(None), Reader(ANN), compare=compare)
    [event] = t.events
    assert (event["metric"], event["level"], event["id"], event["keys"]) == (
        "ShadowNormalisedHit",
        "info",
        "u1",
        {"q": "ANN"},
    )


# --- v3 ----------------------------------------------------------------------------------------------


def test_v3_mode_serves_v3_without_reading_legacy():
    router, t = _router("v3")
    legacy = Reader(error=AssertionError("legacy must not be read"))
    served = router.read("get", {}, legacy, Reader(ANN))
    assert (served.value, served.source, legacy.calls) == (ANN, "v3", 0) and not t.events


def test_v3_miss_and_v3_error_fall_back_to_legacy():
    router, t = _router("v3")
    assert router.read("get", {}, Reader(ANN), Reader(None)).source == "legacy"
    assert t.counts == Counter({"V3Fallback": 1})
    served = router.read("get", {}, Reader(ANN), Reader(error=RuntimeError("throttled")))
    assert (served.value, served.source) == (ANN, "legacy")
    assert t.counts == Counter({"V3Fallback": 2, "V3Error": 1})


def test_a_marker_reads_through_until_v3_holds_the_write_then_v3_serves():
    # Given a write the application made (marker) that v3 does not hold yet: v3 has the old record
    marks = MemoryMarks()
    new = {**ANN, "name": "Annie"}
    marks.mark(("profile", "u1"), new)
    router, t = _router("v3", marks)
    mark = ("profile", "u1")
    # When read at v3, Then legacy answers (read-through) and the marker stays
    served = router.read("get", {"id": "u1"}, Reader(new), Reader(ANN), mark=mark)
    assert (served.value, served.source, t.counts["V3ReadThrough"]) == (new, "legacy", 1)
    assert len(marks.marked(mark)) == 1
    # When v3 returns the marked write, Then this read still reads through and clears the marker
    assert router.read("get", {}, Reader(new), Reader({**new, "_version": "9"}), mark=mark).source == "legacy"
    assert marks.marked(mark) == []
    # And the next read is v3's
    assert router.read("get", {}, Reader(new), Reader(new), mark=mark).source == "v3"


def test_two_reads_agreeing_do_not_clear_a_marker():
    # Given a write v3 does not hold, and legacy's index lagging too: both return the state before it
    marks = MemoryMarks()
    marks.mark(("orders", "u1"), {"orderId": "o2"}, id="o2")
    router, _ = _router("v3", marks)
    before = [{"orderId": "o1"}]
    # When read at v3 while both agree on the old list
    served = router.read("list", {}, Reader(before), Reader(before), mark=("orders", "u1"))
    # Then legacy answers and the marker survives: agreement is no evidence that v3 holds the write
    assert served.source == "legacy" and [m.id for m in marks.marked(("orders", "u1"))] == ["o2"]
    # And later, with legacy's index caught up, the write is still read through while v3 lags
    after = [*before, {"orderId": "o2"}]
    assert router.read("list", {}, Reader(after), Reader(before), mark=("orders", "u1")).value == after


def test_each_element_written_waits_for_its_own_evidence():
    # Given two elements written under one mark, and v3 holding only the later one
    marks, mark = MemoryMarks(), ("orders", "u1")
    o1, o2 = {"orderId": "o1", "amount": 1}, {"orderId": "o2", "amount": 2}
    marks.mark(mark, o1, id="o1")
    marks.mark(mark, o2, id="o2")
    router, _ = _router("v3", marks)
    # When read, Then o2's marker is cleared, o1's kept: v3 still lacks o1, legacy answers again
    assert router.read("list", {}, Reader([o1, o2]), Reader([o2]), mark=mark).source == "legacy"
    assert [m.id for m in marks.marked(mark)] == ["o1"]
    assert router.read("list", {}, Reader([o1, o2]), Reader([o2]), mark=mark).source == "legacy"
    # And once v3 holds both, the marker goes and v3 serves
    router.read("list", {}, Reader([o1, o2]), Reader([o1, o2]), mark=mark)
    assert router.read("list", {}, Reader([o1, o2]), Reader([o1, o2]), mark=mark).source == "v3"


def test_a_newer_writes_marker_survives_the_clear_of_an_older_one():
    # Given a marker whose write v3 holds, and a newer write under the same mark landing during the read
    class Racing(MemoryMarks):
        def marked(self, mark: Any) -> list[Marker]:
            seen = list(super().marked(mark))
            self.mark(mark, {**ANN, "name": "Newer"})  # the newer write's transaction commits now
            return seen

    marks = Racing()
    marks.mark("m", ANN)
    router, _ = _router("v3", marks)
    # When the read finds v3 holding the older write, Then it clears nothing the newer write left
    router.read("get", {}, Reader(ANN), Reader(ANN), mark="m")
    assert [m.written["name"] for m in MemoryMarks.marked(marks, "m")] == ["Newer"]


def test_a_related_mark_reads_through_but_is_cleared_only_by_its_own_read():
    marks = MemoryMarks()
    marks.mark(("profile", "u1"), ANN)
    router, t = _router("v3", marks)
    served = router.read(
        "find", {"q": "ann"}, Reader(ANN), Reader(ANN), mark=("email", "ann"), related=lambda v: [("profile", v["id"])]
    )
    assert served.source == "legacy" and t.counts["V3ReadThrough"] == 1 and len(marks.marked(("profile", "u1"))) == 1


def test_unreadable_markers_mean_legacy_answers():
    class Down(MemoryMarks):
        def marked(self, mark: Any) -> list[Marker]:
            raise ConnectionError("markers table unreachable")

    router, t = _router("v3", Down())
    served = router.read("get", {}, Reader(ANN), Reader(ANN), mark="m")
    assert served.source == "legacy" and t.counts == Counter({"V3Error": 1})


def test_a_marker_without_evidence_recorded_is_never_cleared_by_a_read():
    # Given a marker that does not say what was written (an older marker format)
    marks = MemoryMarks()
    marks.mark("m", None)
    router, _ = _router("v3", marks)
    # When v3 and legacy agree, Then the marker stays (it expires with the store's TTL)
    router.read("get", {}, Reader(ANN), Reader(ANN), mark="m")
    assert len(marks.marked("m")) == 1


def test_reads_without_a_marker_store_serve_v3_at_once():
    router, t = _router("v3", marks=None)
    assert router.read("get", {}, Reader(ANN), Reader(ANN), mark="m").source == "v3" and not t.events


def test_a_write_is_refused_by_a_missing_or_unknown_flag_but_not_by_an_unreachable_store():
    # Given flags with no value, an unknown value, a known value, and a store that cannot be reached
    class Down:
        name = "the flag's store"

        def read(self) -> str | None:
            raise FlagUnavailable(ConnectionError("no route to host"), "Check the network")

    t = Recorder()
    # When a write asks, Then missing and unknown refuse it in one line naming the fix, each counted
    for values in (MemoryFlagValues(None), MemoryFlagValues("v4")):
        with pytest.raises(FlagRefusesWrites, match=r"^writes are refused: .*`cutover flip legacy`$"):
            FlagReader(values, t).for_writes()
    # And a known value, or an unreachable store (writes have always gone to legacy), lets it through
    assert FlagReader(MemoryFlagValues("v3"), t).for_writes() is ReadSource.V3
    assert FlagReader(Down(), t).for_writes() is ReadSource.LEGACY
    assert [e["metric"] for e in t.events] == ["FlagInvalid", "FlagInvalid", "FlagUnreadable"]
