"""The flip interlock after a secret rotation (pure): only a full, clean repair started after it clears it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from shadow_world import complete_reading  # tests/ is on sys.path

from controlplane.gate import Evidence, evaluate

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # fixed-date: passed as Evidence.now; the rules read no clock
ROTATED = NOW - timedelta(minutes=30)


def _z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _evidence(**changes: object) -> Evidence:
    """Complete evidence that passes the gate: backfill, a recent full clean reconcile, on shadow."""
    rec = {
        "started_at": _z(NOW - timedelta(minutes=10)),
        "finished_at": _z(NOW - timedelta(minutes=5)),
        "clean": True,
        "sample": None,
        "at_start": {"sync_lag_seconds": 1.0},
    }
    backfill = {"finished_at": _z(NOW - timedelta(hours=2)), "complete": True}
    base = Evidence(
        reconcile=rec,
        quarantine_open=0,
        lag_seconds=1.0,
        now=NOW,
        current_flag="shadow",
        backfill=backfill,
        shadow=complete_reading(NOW),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _rotation() -> dict[str, object]:
    return {"secret": "reviewer-key", "version": 2, "previous_version": 1, "rotated_at": _z(ROTATED)}


def _repair(started: datetime, *, clean: bool = True, sample: float | None = None) -> dict[str, object]:
    return {"started_at": _z(started), "finished_at": _z(started + timedelta(minutes=5)), "clean": clean,
            "sample": sample, "repair": True}  # fmt: skip


def test_a_rotation_after_the_last_repair_refuses_the_flip_naming_the_secret_and_the_fix():
    # Given a rotation of reviewer-key after the last full repair
    evidence = _evidence(rotations=(_rotation(),), last_repair=_repair(ROTATED - timedelta(hours=1)))
    # When the gate judges a flip to v3
    verdict = evaluate("v3", evidence)
    # Then it is refused once, naming the secret, its version, when it rotated and the fix
    assert not verdict.allowed and len(verdict.failures) == 1, verdict.failures
    said = verdict.failures[0]
    assert "reviewer-key" in said and "version 2" in said and _z(ROTATED) in said
    assert "`cutover reconcile --repair`" in said


def test_a_full_clean_repair_started_after_the_rotation_passes():
    # Given a full, clean repair that started a minute after the rotation
    evidence = _evidence(rotations=(_rotation(),), last_repair=_repair(ROTATED + timedelta(minutes=1)))
    # Then the flip is allowed
    assert evaluate("v3", evidence).allowed


def test_a_sampled_or_unclean_repair_after_the_rotation_does_not_count():
    # Given repairs started after the rotation, one sampled and one that left differences
    for repair in (_repair(ROTATED + timedelta(minutes=1), sample=0.1), _repair(ROTATED + timedelta(minutes=1),
                                                                                  clean=False)):  # fmt: skip
        # Then each still refuses the flip
        verdict = evaluate("v3", _evidence(rotations=(_rotation(),), last_repair=repair))
        assert not verdict.allowed and "reviewer-key" in verdict.failures[0]


def test_a_repair_started_before_the_rotation_but_finished_after_does_not_count():
    # Given a repair that started a minute before the rotation and finished four minutes after it
    evidence = _evidence(rotations=(_rotation(),), last_repair=_repair(ROTATED - timedelta(minutes=1)))
    # Then it read (some) items at the old version: the flip is refused
    assert not evaluate("v3", evidence).allowed


def test_no_repair_at_all_after_a_rotation_refuses_and_no_rotation_needs_none():
    assert "reviewer-key" in evaluate("v3", _evidence(rotations=(_rotation(),))).failures[0]
    assert evaluate("v3", _evidence()).allowed
