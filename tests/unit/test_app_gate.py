"""The flip interlock's rules (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from controlplane.gate import Evidence, Thresholds, evaluate

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def _evidence(age_h=1.0, clean=True, quarantine=0, lag: float | None = 5.0, **report) -> Evidence:
    rec = {
        "finished_at": (NOW - timedelta(hours=age_h)).isoformat().replace("+00:00", "Z"),
        "clean": clean,
        "counts": {"missing": 0 if clean else 4},
        **report,
    }
    return Evidence(reconcile=rec, quarantine_open=quarantine, lag_seconds=lag, now=NOW)


def test_v3_allowed_with_full_evidence():
    assert evaluate("v3", _evidence()).allowed


@pytest.mark.parametrize("target", ["legacy", "shadow"])
def test_legacy_and_shadow_are_never_refused(target):
    verdict = evaluate(target, Evidence(reconcile=None, quarantine_open=9, lag_seconds=None, now=NOW))
    assert verdict.allowed and verdict.failures == ()


def test_every_failure_is_listed_at_once():
    verdict = evaluate("v3", _evidence(age_h=48, clean=False, quarantine=2, lag=None))
    assert not verdict.allowed and len(verdict.failures) == 4
    assert "missing=4" in verdict.failures[0] and "48.0 h ago" in verdict.failures[1]
    assert "2 quarantined" in verdict.failures[2] and "never synced" in verdict.failures[3]


def test_no_reconcile_at_all():
    verdict = evaluate("v3", Evidence(reconcile=None, quarantine_open=0, lag_seconds=1.0, now=NOW))
    assert verdict.failures == ("no reconcile has been recorded: run `cutover reconcile` (runbooks/reconcile.md)",)


def test_thresholds_are_settings():
    assert not evaluate("v3", _evidence(age_h=3), Thresholds(max_age_hours=2)).allowed
    assert evaluate("v3", _evidence(lag=100), Thresholds(max_lag_seconds=120)).allowed
    assert not evaluate("v3", _evidence(lag=61)).allowed
    assert evaluate("v3", _evidence(quarantine=3), Thresholds(accept_quarantine=True)).allowed


@pytest.mark.parametrize("finished_at", [None, "", "yesterday", 12345])
def test_unreadable_reconcile_time_fails_safe(finished_at):
    verdict = evaluate("v3", _evidence(finished_at=finished_at))
    assert not verdict.allowed and "no valid finished_at" in verdict.failures[0]


def test_naive_timestamp_is_read_as_utc():
    assert evaluate("v3", _evidence(finished_at=(NOW - timedelta(hours=1)).replace(tzinfo=None).isoformat())).allowed
