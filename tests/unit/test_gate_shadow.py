"""The gate's shadow rule (controlplane.gate_shadow), pure: what explains a mismatch, what counts."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from shadow_world import complete_reading  # tests/ is on sys.path

from controlplane.gate import POLICY, loosened
from controlplane.gate_shadow import ShadowReading, shadow_failures

NOW = datetime(2001, 1, 1, 12, 0, tzinfo=UTC)  # far past: Evidence.now is given, the rules read no clock


def _z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


MISMATCH_AT = NOW - timedelta(minutes=30)
MISMATCH = {"op": "get_user", "keys": {"userId": "u1"}, "differing": ["name"], "last_at": _z(MISMATCH_AT)}


def _run(started: datetime, clean: bool = True, sample: float | None = None, repair: bool = False) -> dict:
    return {"started_at": _z(started), "clean": clean, "sample": sample, "repair": repair}


def _failures(reading: ShadowReading, reconcile=None, repair=None, limits=POLICY, flag="shadow") -> list[str]:
    return shadow_failures(reading, flag, NOW, limits, reconcile, repair)


def test_a_long_phase_with_enough_keys_and_no_mismatch_passes():
    assert _failures(complete_reading(NOW)) == []


def test_only_a_full_clean_run_started_after_the_mismatch_explains_it():
    reading = complete_reading(NOW, (MISMATCH,))
    after, before = MISMATCH_AT + timedelta(seconds=1), MISMATCH_AT - timedelta(seconds=1)
    assert _failures(reading, reconcile=_run(after)) == []
    assert _failures(reading, repair=_run(after, repair=True)) == []  # it repaired it and ended clean
    for reconcile in (_run(before), _run(after, clean=False), _run(after, sample=0.5), _run(MISMATCH_AT)):
        (failure,) = _failures(reading, reconcile=reconcile)
        assert failure.startswith("shadow reads found 1 unexplained mismatch(es) (get_user userId=u1 on name at")


def test_a_flag_set_to_shadow_outside_a_flip_has_no_start_and_is_refused():
    reading = dataclasses.replace(complete_reading(NOW), entered_at=None)
    (failure,) = _failures(reading)
    assert failure.startswith("cannot tell when the shadow phase started")


def test_evidence_that_could_not_be_read_is_refused_naming_why():
    (failure,) = _failures(ShadowReading(error="AccessDeniedException: no Query"))
    assert "the shadow evidence could not be read (AccessDeniedException: no Query)" in failure
    assert _failures(None) and _failures(ShadowReading(error="x"), flag="legacy") == []  # legacy: the gate's own rule


def test_a_start_on_the_operators_clock_waits_for_the_skew_allowance_too():
    entered = NOW - timedelta(seconds=POLICY.min_shadow_seconds + 60)
    backend = dataclasses.replace(complete_reading(NOW), entered_at=_z(entered))
    assert _failures(backend) == []
    (failure,) = _failures(dataclasses.replace(backend, entered_clock="operator"))
    assert failure.startswith("reads have been on shadow for 660 s")  # 960 s, less the 300 s allowance


def test_zero_keys_required_allows_a_phase_without_comparisons_but_not_a_mismatch():
    limits = dataclasses.replace(POLICY, min_shadow_keys=0)
    empty = dataclasses.replace(complete_reading(NOW), reads={})
    assert _failures(empty, limits=limits) == []
    assert _failures(dataclasses.replace(empty, mismatches=(MISMATCH,)), limits=limits)
    assert "no shadow comparisons are recorded" in _failures(empty)[0]


def test_lowering_a_minimum_is_loosening_and_raising_it_is_not():
    low = dataclasses.replace(POLICY, min_shadow_seconds=0, min_shadow_keys=5)
    assert set(loosened(low)) == {"min_shadow_seconds", "min_shadow_keys"}
    assert loosened(dataclasses.replace(POLICY, min_shadow_seconds=POLICY.min_shadow_seconds * 2)) == {}


def test_a_deployment_without_the_api_table_needs_the_override_and_says_so():
    reading = dataclasses.replace(complete_reading(NOW), reads={}, note="svc-cutover-api does not exist")
    (failure,) = _failures(reading)
    assert "(svc-cutover-api does not exist: nothing here records shadow reads)" in failure
    assert "--min-shadow-keys 0 --reason TEXT" in failure
    assert _failures(reading, limits=dataclasses.replace(POLICY, min_shadow_keys=0)) == []


def test_the_flip_record_keeps_the_newest_mismatches_and_their_count():
    many = tuple({**MISMATCH, "keys": {"userId": f"u{i}"}} for i in range(50))
    summary = complete_reading(NOW, many).summary()
    assert len(summary["mismatches"]) == 3 and summary["mismatch_keys"] == 50


def test_on_the_backends_clock_a_fast_reconcile_host_cannot_explain_an_earlier_started_run():
    # Given a mismatch last seen at 11:30:00 on the backend's clock (the API's clock agrees), and a
    # reconcile host 10 min fast: its run started at 11:29:50 on the backend's clock, 11:39:50 on its own
    seen = {**MISMATCH, "last_backend_at": _z(MISMATCH_AT)}
    run = _run(MISMATCH_AT + timedelta(minutes=10) - timedelta(seconds=10))
    run["at_start"] = {"backend_at": _z(MISMATCH_AT - timedelta(seconds=10))}
    # Then it does not explain the mismatch, though its own start time is later
    (failure,) = _failures(complete_reading(NOW, (seen,)), reconcile=run)
    assert "1 unexplained mismatch(es)" in failure
    # And one that started the next second on the backend's clock does; the same second does not
    run["at_start"] = {"backend_at": _z(MISMATCH_AT + timedelta(seconds=1))}
    assert _failures(complete_reading(NOW, (seen,)), reconcile=run) == []
    run["at_start"] = {"backend_at": _z(MISMATCH_AT + timedelta(milliseconds=900))}
    assert _failures(complete_reading(NOW, (seen,)), reconcile=run)
