"""Changing the read-source flag: guarded by the interlock, one conditional write, always recorded.

Used by `cutover flip` and the demo. Rollback to `legacy` is never refused by the gate, but every
flip is a compare-and-set from the value it was evaluated against (DESIGN.md, "Evidence and the
flip gate"): the flag readers obey IS the flip `control` item in the reports table
(`controlplane.flag`), so claiming the flip (a conditional write on its version) and changing the
flag are one write, carrying the flip's record. Order: control (CAS: the decision) -> history
record -> SSM mirror -> control re-read. A flip evaluated against a value that changed fails and
writes nothing; a flip overtaken by a later one before it finished is told so (exit 2) and leaves
the mirror showing the later one; a mirror that cannot be written never fails the flip.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from controlplane.evidence import Stores
from controlplane.flag import ReadSource
from controlplane.gate import POLICY, Thresholds, Verdict, evaluate, loosened
from cutover.clock import utc_now
from cutover.errors import ConfigError, CutoverError
from cutover.state import FLIP


class FlipConflictError(CutoverError):
    """Another flip (or a direct edit) changed the flag after this flip read it; nothing was written."""


class FlipSupersededError(FlipConflictError):
    """This flip was applied and recorded, then a later one landed before it finished: the later one stands."""


@dataclass(frozen=True)
class FlipResult:
    old: str | None
    new: str
    verdict: Verdict
    forced: bool
    changed: bool
    record: dict[str, Any] | None  # what was written to the flip history (None: refused / no-op)
    mirror_error: str | None = None  # the SSM mirror could not be written (readers obey the owner)

    @property
    def refused(self) -> bool:
        return not self.verdict.allowed and not self.forced

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.old,
            "to": self.new,
            "changed": self.changed,
            "forced": self.forced,
            "refused": self.refused,
            "interlock": self.verdict.to_dict(),
            "record": self.record,
            "mirror_error": self.mirror_error,
        }


def flip(
    stores: Stores,
    target: ReadSource,
    who: str,
    thresholds: Thresholds = POLICY,
    force: bool = False,
    reason: str | None = None,
) -> FlipResult:
    """Set the flag to `target` if the interlock allows (or `force` with a reason); record it.

    Raises:
        ConfigError: --force, or a limit looser than the policy, without a reason.
        FlipConflictError: the flag changed between reading it and writing it (nothing written).
        FlipSupersededError: applied, then overtaken by a later flip before this one finished.
    """
    looser = loosened(thresholds)
    if (force or looser) and not (reason and reason.strip()):
        what = "--force" if force else "loosening " + ", ".join(f"--{k.replace('_', '-')}" for k in looser)
        raise ConfigError(f"{what} needs --reason TEXT: it overrides the interlock; say why (it is recorded)")
    version, _ = stores.reports.control(FLIP)  # first: a missing reports table fails before anything is written
    old = stores.flag.get()
    evidence = stores.evidence(current_flag=old) if target is ReadSource.V3 else None
    verdict = evaluate(target.value, evidence, thresholds) if evidence is not None else Verdict(target.value, True)
    if not verdict.allowed and not force:
        if stores.reports.control(FLIP)[0] != version:  # judged on evidence of a flag that has since moved
            _conflict(stores, old, target)
        return FlipResult(old, target.value, verdict, False, False, None)
    if old == target.value and not force:
        _resync(stores, target.value)
        return FlipResult(old, target.value, verdict, False, False, None)
    forced = force or bool(looser)
    record = _record(who, old, target, reason, forced, verdict, looser, thresholds, evidence, version)
    record["backend_at"] = _backend_now(stores)  # a shadow phase's start, on the one clock the gate uses
    _claim(stores, version, old, target, record)  # readers obey `target` from here on
    record["applied"] = True
    stores.reports.record(FLIP, record, at=record["at"])
    mirror_error = _mirror(stores, version + 1, target, record)
    return FlipResult(old, target.value, verdict, forced, True, record, mirror_error)


def _claim(stores: Stores, version: int, old: str | None, target: ReadSource, record: dict[str, Any]) -> None:
    """The compare-and-set that IS the flag write: the control item must still be at `version`."""
    if not stores.reports.compare_and_set(FLIP, version, record, stores.flag.owner_attributes(target)):
        _conflict(stores, old, target)


def _conflict(stores: Stores, old: str | None, target: ReadSource) -> None:
    """Raises FlipConflictError naming who moved the flag meanwhile."""
    _, latest = stores.reports.control(FLIP)
    by = f" by {latest.get('who')} at {latest.get('at')}" if latest else ""
    raise FlipConflictError(
        f"read-source changed while this flip to {target.value} was being evaluated (it was {old}, it is now "
        f"{stores.flag.get()}{by}); nothing was written. Check `cutover status` and re-run the flip if still wanted"
    )


def _backend_now(stores: Stores) -> str | None:
    """The backend's clock, rounded UP to the next second (its Date header drops the fraction, and
    the claim is written after this read): so a phase never looks longer than it was."""
    try:
        moment = stores.reports.server_time()
    except Exception:  # noqa: BLE001 - without it the gate counts from `at` plus the skew allowance
        return None
    return None if moment is None else (moment + timedelta(seconds=1)).isoformat()


def _resync(stores: Stores, value: str) -> None:
    """A no-op flip rewrites a mirror that disagrees (someone edited SSM): the way to fix it."""
    try:
        if stores.flag.mirror() != value:
            stores.flag.set_mirror(value)
    except Exception:  # noqa: BLE001 - best effort: `cutover status` shows a mirror that still disagrees
        return


def _mirror(stores: Stores, mine: int, target: ReadSource, record: dict[str, Any]) -> str | None:
    """Copy the decision to the SSM mirror, then check no later flip landed meanwhile (else mirror that one).

    Returns the mirror's write error, if any: the flag itself is already changed and recorded.
    """
    try:
        stores.flag.set_mirror(target.value)
        version, latest = stores.reports.control(FLIP)
        if version == mine:
            return None
        now = stores.flag.get()
        if now is not None:
            stores.flag.set_mirror(now)
    except Exception as exc:  # noqa: BLE001 - a mirror for people never fails the flip readers obey
        error = f"{type(exc).__name__}: {exc}"
        stores.reports.record(FLIP, {**record, "mirror_error": error}, at=record["at"])
        return error
    flipped = latest is not None and latest.get("control_version") == version  # else the runbook's raw write
    by = f"{latest.get('who')}'s flip to {latest.get('to')} at {latest.get('at')}" if latest and flipped else None
    by = by or "a direct edit of the flip control item (the runbook's raw rollback)"
    raise FlipSupersededError(
        f"this flip to {target.value} was applied, then superseded by {by} before it finished; read-source is "
        f"now {now} (the SSM mirror too). Check `cutover status` and re-run the flip if still wanted"
    )


def _record(
    who: str,
    old: str | None,
    target: ReadSource,
    reason: str | None,
    forced: bool,
    verdict: Verdict,
    looser: dict[str, Any],
    thresholds: Thresholds,
    evidence: Any,
    version: int,
) -> dict[str, Any]:
    """Exactly what was checked, what was overridden and why."""
    accepted = None
    if evidence is not None and thresholds.accept_quarantine and evidence.quarantine_open:
        accepted = {"count": evidence.quarantine_open, "keys": list(evidence.quarantine_keys)}
    return {
        "at": utc_now(),
        "who": who,
        "from": old,
        "to": target.value,
        "reason": reason,
        "forced": forced,
        "overridden": [*(verdict.failures if forced else ()), *(f"limit {k} loosened" for k in looser)],
        "loosened": looser,
        "limits": {**thresholds.limits(), "accept_quarantine": thresholds.accept_quarantine},
        "checked": None if evidence is None else {"verdict": verdict.to_dict(), "evidence": evidence.summary()},
        "quarantine_accepted": accepted,
        "control_version": version + 1,
    }


def operator(clients: Any, is_local: bool) -> str:
    """Who is flipping: the AWS caller identity on real AWS (best effort), else the OS user."""
    user = _os_user()
    if is_local:
        return user
    try:
        arn = clients.client("sts").get_caller_identity()["Arn"]
    except Exception:  # noqa: BLE001 - identity is informative, never a reason to fail a rollback
        return user
    return f"{arn} ({user})"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"
