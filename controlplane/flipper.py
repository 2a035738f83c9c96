"""Changing the read-source flag: guarded by the interlock, and always recorded.

Used by `cutover flip` and the demo. Rollback to `legacy` is never refused.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Any

from controlplane.evidence import Stores
from controlplane.flag import ReadSource
from controlplane.gate import Thresholds, Verdict, evaluate
from cutover.clock import utc_now
from cutover.errors import ConfigError
from cutover.state import FLIP


@dataclass(frozen=True)
class FlipResult:
    old: str | None
    new: str
    verdict: Verdict
    forced: bool
    changed: bool
    record: dict[str, Any] | None  # what was written to the flip history (None: refused / no-op)

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
        }


def flip(
    stores: Stores,
    target: ReadSource,
    who: str,
    thresholds: Thresholds = Thresholds(),
    force: bool = False,
    reason: str | None = None,
) -> FlipResult:
    """Set the flag to `target` if the interlock allows (or `force` with a reason); record it.

    Raises ConfigError for --force without a reason: an override must say why.
    """
    if force and not (reason and reason.strip()):
        raise ConfigError("--force needs --reason TEXT: say why the interlock is being overridden (it is recorded)")
    old = stores.flag.get()
    verdict = (
        evaluate(target.value, stores.evidence(), thresholds)
        if target is ReadSource.V3
        else Verdict(target.value, True)
    )
    if not verdict.allowed and not force:
        return FlipResult(old, target.value, verdict, False, False, None)
    if old == target.value and not force:
        return FlipResult(old, target.value, verdict, False, False, None)
    stores.flag.set(target)
    record = {
        "at": utc_now(),
        "who": who,
        "from": old,
        "to": target.value,
        "reason": reason,
        "forced": force,
        "overridden": list(verdict.failures) if force else [],
    }
    stores.reports.record(FLIP, record)
    return FlipResult(old, target.value, verdict, force, True, record)


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
