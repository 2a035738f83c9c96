"""The gate's reconcile and gap rules: does the last reconcile vouch for the data v3 will serve?

A reconcile proves v3 == transform(legacy) only for what it could see. So it counts only if it
was full (a 1% sample proves nothing about the other 99%), clean, STARTED after the last backfill
completed (history copied) and while sync was caught up (recorded by the run at its start), and
finished within the age limit. Timestamps written by other machines are compared with `now`
(the backend's clock when available) allowing `clock_skew_seconds`; a time further in the future
than that is refused rather than trusted.
A sync gap (records lost before they were applied) is cleared only by a full `reconcile --repair`
that started after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from controlplane.gate import Thresholds


def parse(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def backfill_failures(backfill: dict[str, Any] | None) -> list[str]:
    """A complete backfill must be recorded, reconcile or not: without one v3 lacks the history."""
    uncovered = (backfill or {}).get("uncovered") or []
    if backfill and not backfill.get("complete") and uncovered:
        tables = f"--table {uncovered[0]}" if len(uncovered) == 1 else "--table all"
        return [
            f"no complete backfill of {', '.join(uncovered)} is recorded (the latest run of each must finish it): "
            f"run `cutover backfill {tables}` to completion, then `cutover reconcile` (runbooks/backfill.md)"
        ]
    if not backfill or not backfill.get("complete"):
        return [
            "no complete backfill is recorded: run `cutover backfill` to completion, then `cutover reconcile` "
            "(runbooks/backfill.md)"
        ]
    return []


def reconcile_failures(
    report: dict[str, Any] | None, backfill: dict[str, Any] | None, now: datetime, limits: Thresholds
) -> list[str]:
    """Why the last reconcile does not vouch for v3 (a missing backfill is `backfill_failures`')."""
    if report is None:
        return ["no reconcile has been recorded: run `cutover reconcile` (runbooks/reconcile.md)"]
    out = []
    if not report.get("clean"):
        counts = report.get("counts") or {}
        detail = ", ".join(
            f"{k}={counts[k]}" for k in ("missing", "extra", "different", "quarantined") if counts.get(k)
        )
        out.append(
            f"the last reconcile is not clean ({detail or 'see its report'}): "
            "run `cutover reconcile --repair`, then `cutover reconcile` (runbooks/reconcile.md)"
        )
    out += _age_failures(report, now, limits)
    if report.get("sample") is not None:
        out.append(
            f"the last reconcile was sampled ({report['sample']:g} of items): only a full run vouches for v3; "
            "run `cutover reconcile` without --sample"
        )
    out += _ordering_failures(report, backfill, limits.max_lag_seconds)
    return out


def _age_failures(report: dict[str, Any], now: datetime, limits: Thresholds) -> list[str]:
    finished = parse(report.get("finished_at"))
    if finished is None:
        return [f"the last reconcile has no valid finished_at ({report.get('finished_at')!r}): run `cutover reconcile`"]
    age_s = (now - finished).total_seconds()
    if -age_s > limits.clock_skew_seconds:
        return [
            f"the last reconcile finished {-age_s:.0f} s in the future ({report['finished_at']}): clock skew "
            f"beyond the {limits.clock_skew_seconds:g} s allowance; fix the clock and run `cutover reconcile` again"
        ]
    age_h = max(0.0, age_s) / 3600
    if age_h > limits.max_age_hours:
        return [
            f"the last reconcile finished {age_h:.1f} h ago ({report['finished_at']}), older than "
            f"{limits.max_age_hours:g} h: run `cutover reconcile` again"
        ]
    return []


def _ordering_failures(report: dict[str, Any], backfill: dict[str, Any] | None, max_lag: float) -> list[str]:
    out = []
    started = parse(report.get("started_at"))
    if started is None:
        return [f"the last reconcile has no valid started_at ({report.get('started_at')!r}): run `cutover reconcile`"]
    if backfill and backfill.get("complete"):
        done = parse(backfill.get("finished_at"))
        if done is None or started <= done:
            out.append(
                f"the last reconcile started ({report.get('started_at')}) before the last backfill completed "
                f"({backfill.get('finished_at')}): it could not see the copied history; run `cutover reconcile` again"
            )
    at_start = report.get("at_start") or {}
    lag = at_start.get("sync_lag_seconds")
    if lag is None or lag > max_lag:
        seen = "unknown (sync had not run on every table)" if lag is None else f"{lag:.0f} s"
        out.append(
            f"the last reconcile started while sync was not caught up (lag then: {seen}, limit {max_lag:g} s): "
            "let `cutover sync` catch up, then run `cutover reconcile` again"
        )
    return out


def gap_failures(gaps: Iterable[dict[str, Any]], last_repair: dict[str, Any] | None) -> list[str]:
    dated = [(when, g) for g in gaps if (when := parse(g.get("detected_at"))) is not None]
    if not dated:
        return []
    detected, newest = max(dated, key=lambda pair: pair[0])
    repaired = parse((last_repair or {}).get("started_at"))
    if repaired is not None and repaired > detected:
        return []
    return [
        f"sync lost records before applying them (gap in {newest.get('table')} shard {newest.get('shard')}, "
        f"detected {newest.get('detected_at')}: {newest.get('why')}) and no full `cutover reconcile --repair` has "
        "started since: run it once sync has caught up, then `cutover reconcile` (runbooks/sync.md)"
    ]
