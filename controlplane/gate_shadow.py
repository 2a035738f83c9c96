"""The gate's shadow rule: v3 serves only after shadow reads compared it with legacy, and agreed.

Pure: the readings are gathered by `controlplane.evidence` from the flip history and the API's
shadow evidence (`controlplane.shadow_evidence`). For `flip v3` from `shadow` (DESIGN.md,
"Shadow evidence"):
- reads have been on shadow for at least `min_shadow_seconds`, counted from the flip that
  entered this phase, on the backend's clock (a flip recorded before the backend time was kept
  is counted from its own clock plus the skew allowance);
- every kind of read the API declared compared at least `min_shadow_keys` distinct keys in this
  phase (an outcome of match, mismatch or expected: a skipped, failed or uncomparable read
  proves nothing about v3);
- no unexplained mismatch. A mismatch on a key is explained only by a reconcile that started
  after its last occurrence (on the backend's clock when both recorded it) and is clean for that
  key. "Clean for that key" is taken as: full (unsampled) and clean as a whole (after
  `--repair`, nothing remaining, so it repaired it).
  A report that is not clean never explains one: its listed differences are a bounded sample,
  and a read's key (an e-mail, a user's order list) is not one table key.
Loosening a minimum is an override (`gate.loosened`), as for the other limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from controlplane.flag import ReadSource
from controlplane.gate_reconcile import parse
from controlplane.shadow_outcomes import COMPARED, KEYS

if TYPE_CHECKING:
    from controlplane.gate import Thresholds

FIX_RUN = "let the API serve shadow reads for longer (runbooks/cutover.md, shadow reads)"
SHOWN = 3  # mismatching keys named in the message (all are in `cutover status --json`)


@dataclass(frozen=True)
class ShadowReading:
    """The current shadow phase as the gate saw it."""

    phase: str | None = None  # the flip control item's version that entered shadow
    entered_at: str | None = None  # when, on `entered_clock`
    entered_clock: str = "backend"  # "backend", or "operator" (then the skew allowance is added)
    reads: dict[str, dict[str, int]] = field(default_factory=dict)  # op -> outcome counts + "keys"
    mismatches: tuple[dict[str, Any], ...] = ()  # every recorded mismatching key, newest first
    error: str | None = None  # why it could not be read
    note: str | None = None  # why nothing could be recorded (no API table in this deployment)

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "mismatches": [dict(m) for m in self.mismatches]}

    def summary(self) -> dict[str, Any]:
        """For the flip record (one item, under DynamoDB's 400 KB): counts, and the newest mismatches."""
        return {
            **self.as_dict(),
            "mismatches": [dict(m) for m in self.mismatches[:SHOWN]],
            "mismatch_keys": len(self.mismatches),
        }


def compared(counts: dict[str, int]) -> int:
    return sum(counts.get(o, 0) for o in COMPARED)


def _explains(run: dict[str, Any], mismatch: dict[str, Any]) -> bool:
    """True if the full, clean `run` STARTED after `mismatch` was last seen. On the backend's clock
    when both sides recorded it (the run's start read before its scan; the mismatch's write answered
    after it was seen), in whole seconds, so the same second never counts as after; else on the two
    machines' own clocks, as the other ordering rules compare them."""
    if run.get("sample") is not None or not run.get("clean"):
        return False
    start, seen = parse((run.get("at_start") or {}).get("backend_at")), parse(mismatch.get("last_backend_at"))
    if start is not None and seen is not None:
        return start.replace(microsecond=0) > seen.replace(microsecond=0)
    start, last = parse(run.get("started_at")), parse(mismatch.get("last_at"))
    return start is not None and last is not None and start > last


def unexplained(
    mismatches: tuple[dict[str, Any], ...], reconcile: dict[str, Any] | None, repair: dict[str, Any] | None
) -> list[dict[str, Any]]:
    runs = [r for r in (reconcile, repair) if r]
    return [m for m in mismatches if not any(_explains(run, m) for run in runs)]


def shadow_failures(
    reading: ShadowReading | None,
    current_flag: str | None,
    now: datetime,
    limits: Thresholds,
    reconcile: dict[str, Any] | None,
    repair: dict[str, Any] | None,
) -> list[str]:
    """Why the shadow phase does not vouch for v3 (not on shadow at all is the gate's own failure)."""
    if current_flag != ReadSource.SHADOW.value:
        return []
    if reading is None or reading.error is not None:
        why = reading.error if reading else "not gathered"
        return [
            f"the shadow evidence could not be read ({why}): the gate cannot tell what shadow reads found; fix "
            "access (dynamodb:Query on the API table) or the name, then flip again"
        ]
    return [
        *_time_failures(reading, now, limits),
        *_count_failures(reading, limits),
        *_mismatch_failures(reading, reconcile, repair),
    ]


def _time_failures(reading: ShadowReading, now: datetime, limits: Thresholds) -> list[str]:
    entered = parse(reading.entered_at)
    if entered is None:
        return [
            "cannot tell when the shadow phase started (read-source was set outside `cutover flip`): run "
            "`cutover flip legacy`, then `cutover flip shadow`, and let shadow reads run"
        ]
    if reading.entered_clock != "backend":
        entered += timedelta(seconds=limits.clock_skew_seconds)  # another machine's clock may be ahead
    seconds = max(0.0, (now - entered).total_seconds())
    if seconds < limits.min_shadow_seconds:
        return [
            f"reads have been on shadow for {seconds:.0f} s (since {reading.entered_at}), under the "
            f"{limits.min_shadow_seconds:g} s minimum: {FIX_RUN}"
        ]
    return []


def _count_failures(reading: ShadowReading, limits: Thresholds) -> list[str]:
    if limits.min_shadow_keys <= 0:
        return []
    if not reading.reads:
        if reading.note:
            return [
                f"no shadow comparisons are recorded for this shadow phase ({reading.note}: nothing here records "
                "shadow reads): deploy the API, or record that your application's were checked otherwise with "
                "--min-shadow-keys 0 --reason TEXT"
            ]
        return [
            "no shadow comparisons are recorded for this shadow phase: send traffic through the API on shadow, "
            f"check its ShadowRecordFailed metric, and {FIX_RUN}"
        ]
    out = []
    for op, counts in reading.reads.items():
        keys = counts.get(KEYS, 0)
        if keys < limits.min_shadow_keys:
            out.append(
                f"shadow reads compared {op} on {keys} distinct key(s) ({compared(counts)} comparison(s)), under "
                f"the {limits.min_shadow_keys:g} minimum: {FIX_RUN}"
            )
    return out


def _mismatch_failures(
    reading: ShadowReading, reconcile: dict[str, Any] | None, repair: dict[str, Any] | None
) -> list[str]:
    found = unexplained(reading.mismatches, reconcile, repair)
    if not found:
        return []
    named = "; ".join(
        f"{m['op']} {_keys(m['keys'])} on {', '.join(m['differing']) or '?'} at {m['last_at']}" for m in found[:SHOWN]
    )
    more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    return [
        f"shadow reads found {len(found)} unexplained mismatch(es) ({named}{more}): run `cutover reconcile --repair`, "
        "then `cutover reconcile`; only a full, clean run that STARTED after a mismatch explains it "
        "(runbooks/cutover.md)"
    ]


def _keys(keys: Any) -> str:
    return " ".join(f"{k}={v}" for k, v in keys.items()) if isinstance(keys, dict) else str(keys)
