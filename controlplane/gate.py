"""The flip interlock: may reads move to v3 now? Pure rules over evidence gathered elsewhere.

Shared by `cutover flip` (refuses) and `cutover status` (reports), so both always agree.
Every failing condition is reported, each with the command that fixes it. The rule for v3
(DESIGN.md, "Evidence and the flip gate"):
- a full (unsampled), CLEAN reconcile that STARTED after the last backfill COMPLETED and while
  sync was caught up, and finished within the age limit (`controlplane.gate_reconcile`);
- no sync gap newer than the last full `reconcile --repair`;
- every on-failure queue of the replicator readable, empty, and sent nothing since that repair
  (`controlplane.gate_queues`);
- no transform secret rotated since the last full, clean `reconcile --repair` started
  (`controlplane.gate_secrets`);
- zero open quarantine, or an acknowledgement recorded with the flip (count and keys);
- current lag under the limit over every shard of every source; a source never synced fails;
- the flag is `shadow` now (a shadow phase came first), for long enough, with enough comparisons
  on distinct keys per kind of read and no unexplained mismatch (`controlplane.gate_shadow`).
`POLICY` holds the limits. A flip may tighten them; loosening one is an override (`loosened`).
Failures are listed in the order an operator fixes them: sync/lag, backfill, on-failure queues,
gap repair, reconcile, quarantine, shadow.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from controlplane.gate_queues import QueueReading, queue_failures
from controlplane.gate_reconcile import backfill_failures, gap_failures, reconcile_failures
from controlplane.gate_secrets import rotation_failures
from controlplane.gate_shadow import ShadowReading, shadow_failures

V3 = "v3"
SHADOW = "shadow"


@dataclass(frozen=True)
class Thresholds:
    max_age_hours: float = 24.0
    max_lag_seconds: float = 60.0
    accept_quarantine: bool = False
    clock_skew_seconds: float = 300.0  # timestamps from other machines may be this far ahead of ours
    min_shadow_seconds: float = 900.0  # time on shadow before v3 (controlplane.gate_shadow)
    min_shadow_keys: float = 100  # distinct keys compared per kind of read in that time

    def limits(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "accept_quarantine"}


POLICY = Thresholds()
MINIMUMS = ("min_shadow_seconds", "min_shadow_keys")  # loosened by LOWERING them


def loosened(given: Thresholds, policy: Thresholds = POLICY) -> dict[str, dict[str, float]]:
    """Limits set above the policy (minimums below it): each is an override (needs --reason, recorded as forced)."""
    mine, theirs = policy.limits(), given.limits()
    return {
        k: {"policy": mine[k], "given": theirs[k]}
        for k in mine
        if (theirs[k] < mine[k] if k in MINIMUMS else theirs[k] > mine[k])
    }


@dataclass(frozen=True)
class Evidence:
    reconcile: dict[str, Any] | None  # ReportStore.latest(RECONCILE)
    quarantine_open: int
    lag_seconds: float | None  # worst over every source; None: some source never synced
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    current_flag: str | None = None  # the flag value this decision is made from
    backfill: dict[str, Any] | None = None  # ReportStore.latest(BACKFILL_RUN)
    last_repair: dict[str, Any] | None = None  # ReportStore.latest(RECONCILE_REPAIR)
    gaps: tuple[dict[str, Any], ...] = ()
    lag_by_source: dict[str, float | None] = field(default_factory=dict)
    quarantine_keys: tuple[str, ...] = ()
    clock: dict[str, Any] = field(default_factory=dict)  # where `now` came from and the measured skew
    # one per source role (Stores.evidence always reads every queue; () only in hand-built evidence)
    failure_queues: tuple[QueueReading, ...] = ()
    rotations: tuple[dict[str, Any], ...] = ()  # rotated transform secrets (cutover.secret_pins.Pin.to_dict)
    shadow: ShadowReading | None = None  # the current shadow phase (None: not gathered, which fails)

    def summary(self) -> dict[str, Any]:
        """What was checked, for the flip record."""
        rec = self.reconcile or {}
        return {
            "now": self.now.isoformat(),
            "clock": dict(self.clock),
            "current_flag": self.current_flag,
            "reconcile": {k: rec.get(k) for k in ("run_id", "started_at", "finished_at", "clean", "sample")},
            "reconcile_at_start": rec.get("at_start"),
            "backfill": {k: (self.backfill or {}).get(k) for k in ("finished_at", "complete")},
            "last_repair_started_at": (self.last_repair or {}).get("started_at"),
            "gaps": len(self.gaps),
            "lag_seconds": self.lag_seconds,
            "lag_by_source": dict(self.lag_by_source),
            "quarantine_open": self.quarantine_open,
            "failure_queues": [q.as_dict() for q in self.failure_queues],
            "rotations": [dict(r) for r in self.rotations],
            "shadow": None if self.shadow is None else self.shadow.summary(),
        }


@dataclass(frozen=True)
class Verdict:
    target: str
    allowed: bool
    failures: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "allowed": self.allowed, "failures": list(self.failures)}


def evaluate(target: str, evidence: Evidence, thresholds: Thresholds = POLICY) -> Verdict:
    """Only `v3` is guarded: `legacy` (rollback) and `shadow` still serve legacy, so always allowed."""
    if target != V3:
        return Verdict(target, True)
    # In the order an operator fixes them: each step needs the ones before it (a backfill needs
    # sync running, a reconcile needs both, the flip needs a clean reconcile and shadow reads).
    failures = [
        *_lag_failures(evidence.lag_seconds, evidence.lag_by_source, thresholds.max_lag_seconds),
        *backfill_failures(evidence.backfill),
        *queue_failures(evidence.failure_queues),
        *gap_failures(evidence.gaps, evidence.last_repair),
        *rotation_failures(evidence.rotations, evidence.last_repair),
        *reconcile_failures(evidence.reconcile, evidence.backfill, evidence.now, thresholds),
        *_quarantine_failures(evidence.quarantine_open, thresholds.accept_quarantine),
        *_shadow_failures(evidence.current_flag),
        *shadow_failures(
            evidence.shadow, evidence.current_flag, evidence.now, thresholds, evidence.reconcile, evidence.last_repair
        ),
    ]
    return Verdict(target, not failures, tuple(failures))


def _quarantine_failures(open_count: int, accepted: bool) -> list[str]:
    if open_count and not accepted:
        return [
            f"{open_count} quarantined item(s) are open: triage them (`cutover quarantine list`, "
            "runbooks/quarantine.md) or accept them with --accept-quarantine (recorded with their keys)"
        ]
    return []


def _lag_failures(lag: float | None, by_source: dict[str, float | None], max_lag: float) -> list[str]:
    never = [s for s in by_source if by_source[s] is None]  # in the sources' own order: users, orders
    if lag is None:
        which = f" ({', '.join(never)})" if never else ""
        return [
            f"replication has never synced{which} (no stream positions recorded): start `cutover sync` "
            "(runbooks/sync.md)"
        ]
    if lag > max_lag:
        worst = max((s for s, v in by_source.items() if v is not None), key=lambda s: by_source[s] or 0, default="")
        where = f"worst: {worst}; " if worst else ""
        return [
            f"replication lag is {lag:.0f} s, over the {max_lag:g} s limit: check that `cutover sync` is "
            f"running and caught up ({where}runbooks/sync.md)"
        ]
    return []


def _shadow_failures(current: str | None) -> list[str]:
    if current in (SHADOW, V3):
        return []
    return [
        f"read-source is {current or '(missing)'}, not shadow: run `cutover flip shadow` first and let shadow "
        "reads compare legacy and v3 (runbooks/cutover.md)"
    ]
