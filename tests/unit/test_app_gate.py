"""The flip interlock's rules (pure)."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime, timedelta

import pytest
from shadow_world import complete_reading  # tests/ is on sys.path

from controlplane.gate import Evidence, Thresholds, evaluate, loosened

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # fixed-date: passed as Evidence.now; the rules read no clock


def _z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _evidence(age_h=1.0, clean=True, quarantine=0, lag: float | None = 5.0, flag="shadow", **report) -> Evidence:
    """Complete evidence (backfill, then a full reconcile started while sync was caught up, on shadow)."""
    finished = NOW - timedelta(hours=age_h)
    rec = {
        "started_at": _z(finished - timedelta(minutes=1)),
        "finished_at": _z(finished),
        "clean": clean,
        "sample": None,
        "counts": {"missing": 0 if clean else 4},
        "at_start": {"sync_lag_seconds": 1.0},
        **report,
    }
    backfill = {"finished_at": _z(finished - timedelta(minutes=5)), "complete": True}
    return Evidence(
        reconcile=rec,
        quarantine_open=quarantine,
        lag_seconds=lag,
        now=NOW,
        current_flag=flag,
        backfill=backfill,
        shadow=complete_reading(NOW),
    )


def test_v3_allowed_with_full_evidence():
    assert evaluate("v3", _evidence()).allowed


@pytest.mark.parametrize("target", ["legacy", "shadow"])
def test_legacy_and_shadow_are_never_refused(target):
    verdict = evaluate(target, Evidence(reconcile=None, quarantine_open=9, lag_seconds=None, now=NOW))
    assert verdict.allowed and verdict.failures == ()


def test_every_failure_is_listed_at_once_in_the_order_to_fix_them():
    # Given everything wrong at once: never synced, no backfill, an old unclean reconcile,
    # open quarantine, reads still on legacy
    evidence = dataclasses.replace(
        _evidence(age_h=48, clean=False, quarantine=2, lag=None, flag="legacy"), backfill=None
    )
    verdict = evaluate("v3", evidence)
    # Then each is listed, sync first, then backfill, the reconcile's, quarantine and shadow last
    assert not verdict.allowed and len(verdict.failures) == 6, verdict.failures
    first, backfill, unclean, old, quarantine, shadow = verdict.failures
    assert "never synced" in first and "no complete backfill" in backfill
    assert "missing=4" in unclean and "48.0 h ago" in old
    assert "2 quarantined" in quarantine and "not shadow" in shadow


def test_no_reconcile_at_all():
    verdict = evaluate(
        "v3",
        Evidence(
            reconcile=None,
            quarantine_open=0,
            lag_seconds=1.0,
            now=NOW,
            current_flag="shadow",
            shadow=complete_reading(NOW),
        ),
    )
    # Then both the missing backfill and the missing reconcile are listed, the backfill first
    assert verdict.failures == (
        "no complete backfill is recorded: run `cutover backfill` to completion, then `cutover reconcile` "
        "(runbooks/backfill.md)",
        "no reconcile has been recorded: run `cutover reconcile` (runbooks/reconcile.md)",
    )


def test_thresholds_are_settings():
    assert not evaluate("v3", _evidence(age_h=3), Thresholds(max_age_hours=2)).allowed
    assert evaluate("v3", _evidence(lag=100), Thresholds(max_lag_seconds=120)).allowed
    assert not evaluate("v3", _evidence(lag=61)).allowed
    assert evaluate("v3", _evidence(quarantine=3), Thresholds(accept_quarantine=True)).allowed


@pytest.mark.parametrize("finished_at", [None, "", "yesterday", 12345])
def test_unreadable_reconcile_time_fails_safe(finished_at):
    verdict = evaluate("v3", _evidence(finished_at=finished_at))
    assert not verdict.allowed and "no valid finished_at" in verdict.failures[0]


@pytest.fixture(params=[14, -12], ids=["utc+14", "utc-12"])
def far_local_time(request, monkeypatch):
    """The process's local time zone set this many hours from UTC (POSIX TZ, no tz database needed)."""
    hours = request.param
    monkeypatch.setenv("TZ", f"<{hours:+03d}>{-hours:+d}")
    time.tzset()
    assert NOW.replace(tzinfo=None).astimezone().utcoffset() == timedelta(hours=hours)  # the zone took effect
    yield hours
    monkeypatch.undo()
    time.tzset()


def test_naive_timestamp_is_read_as_utc(far_local_time):
    # Given a local time zone far from UTC, and naive finish times just inside and just outside the
    # 24 h age limit when read as UTC (read as local time, one of them crosses the limit)
    def naive(age_h):
        return _evidence(finished_at=(NOW - timedelta(hours=age_h)).replace(tzinfo=None).isoformat())

    # Then each is judged by its age in UTC
    assert evaluate("v3", naive(23)).allowed
    refused = evaluate("v3", naive(25))
    assert not refused.allowed and "finished 25.0 h ago" in refused.failures[0]


def test_skew_within_the_allowance_is_tolerated_beyond_it_refused():
    # Given reports whose finish time is ahead of our clock by 2 minutes and by 2 hours
    near, far = _evidence(age_h=-2 / 60), _evidence(age_h=-2)
    # Then 2 minutes is inside the 300 s allowance and 2 hours is refused as clock skew
    assert evaluate("v3", near).allowed
    assert "clock skew" in " ".join(evaluate("v3", far).failures)


def test_only_limits_above_the_policy_are_loosened():
    assert loosened(Thresholds(max_lag_seconds=10, max_age_hours=2)) == {}
    assert loosened(Thresholds(max_lag_seconds=61)) == {"max_lag_seconds": {"policy": 60.0, "given": 61}}


def test_weak_evidence_is_refused_each_with_its_reason():
    failures = " ".join(evaluate("v3", _evidence(sample=0.01, at_start={}), Thresholds()).failures)
    assert "sampled" in failures and "not caught up (lag then: unknown" in failures
    assert "not shadow" in evaluate("v3", _evidence(flag="legacy")).failures[0]
    gap = {"detected_at": _z(NOW - timedelta(minutes=5)), "table": "t", "shard": "s", "why": "trimmed"}
    assert "gap in t shard s" in evaluate("v3", dataclasses.replace(_evidence(), gaps=(gap,))).failures[0]
    repaired = dataclasses.replace(_evidence(), gaps=(gap,), last_repair={"started_at": _z(NOW - timedelta(minutes=1))})
    assert evaluate("v3", repaired).allowed
