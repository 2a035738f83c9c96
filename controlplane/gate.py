"""The flip interlock: may reads move to v3 now? Pure rules over evidence gathered elsewhere.

Shared by `cutover flip` (refuses) and `cutover status` (reports), so both always agree.
Every failing condition is reported, each with the command that fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

V3 = "v3"


@dataclass(frozen=True)
class Thresholds:
    max_age_hours: float = 24.0
    max_lag_seconds: float = 60.0
    accept_quarantine: bool = False


@dataclass(frozen=True)
class Evidence:
    reconcile: dict[str, Any] | None  # ReportStore.latest(RECONCILE)
    quarantine_open: int
    lag_seconds: float | None  # None: sync never ran
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Verdict:
    target: str
    allowed: bool
    failures: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "allowed": self.allowed, "failures": list(self.failures)}


def evaluate(target: str, evidence: Evidence, thresholds: Thresholds = Thresholds()) -> Verdict:
    """Only `v3` is guarded: `legacy` (rollback) and `shadow` still serve legacy, so always allowed."""
    if target != V3:
        return Verdict(target, True)
    failures = [
        *_reconcile_failures(evidence.reconcile, evidence.now, thresholds.max_age_hours),
        *_quarantine_failures(evidence.quarantine_open, thresholds.accept_quarantine),
        *_lag_failures(evidence.lag_seconds, thresholds.max_lag_seconds),
    ]
    return Verdict(target, not failures, tuple(failures))


def _reconcile_failures(report: dict[str, Any] | None, now: datetime, max_age_hours: float) -> list[str]:
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
    finished = _parse(report.get("finished_at"))
    if finished is None:
        out.append(
            f"the last reconcile has no valid finished_at ({report.get('finished_at')!r}): run `cutover reconcile`"
        )
    else:
        age_h = (now - finished).total_seconds() / 3600
        if age_h > max_age_hours:
            out.append(
                f"the last reconcile finished {age_h:.1f} h ago ({report['finished_at']}), older than "
                f"{max_age_hours:g} h: run `cutover reconcile` again"
            )
    return out


def _quarantine_failures(open_count: int, accepted: bool) -> list[str]:
    if open_count and not accepted:
        return [
            f"{open_count} quarantined item(s) are open: triage them (`cutover quarantine list`, "
            "runbooks/quarantine.md) or accept them with --accept-quarantine"
        ]
    return []


def _lag_failures(lag: float | None, max_lag: float) -> list[str]:
    if lag is None:
        return ["replication has never synced (no stream positions recorded): start `cutover sync` (runbooks/sync.md)"]
    if lag > max_lag:
        return [
            f"replication lag is {lag:.0f} s, over the {max_lag:g} s limit: check that `cutover sync` is "
            "running and caught up (runbooks/sync.md)"
        ]
    return []


def _parse(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
