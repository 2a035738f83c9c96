"""Gathering the shadow phase for the flip gate and `cutover status`: which phase, since when, what it found.

The phase is the flip control item's version while it holds `shadow` (the API records under the
version it read, `app_handlers.read_source`); when it started is the backend's time the flip
into it recorded (`backend_at`, `controlplane.flipper`), else that flip's own clock (`at`, an
older record: the gate adds the skew allowance). A control item set to shadow outside `cutover
flip` (the runbook's raw command) has no such record: no start time, which the gate refuses.
A read error becomes the reading's reason, which the gate refuses on; a missing API table (a
deployment without the API) is a phase with no comparisons, said in its `note`.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from controlplane.flag import ReadSource
from controlplane.gate_shadow import ShadowReading
from controlplane.shadow_evidence import ShadowStore
from cutover.state import FLIP, ReportStore

SHADOW = ReadSource.SHADOW.value


def read_phase(reports: ReportStore, store: ShadowStore, current_flag: str | None) -> ShadowReading:
    """The current shadow phase (an empty reading when the flag is not on shadow)."""
    if current_flag != SHADOW:
        return ShadowReading()
    try:
        version, data = reports.control(FLIP)
        entered, clock = _entered(data)
        try:
            reads, mismatches = store.reads(str(version)), tuple(store.mismatches())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            # no API table: this deployment has no application recording shadow reads (`config.api` off)
            return ShadowReading(str(version), entered, clock, note=f"{store.table} does not exist")
        return ShadowReading(str(version), entered, clock, reads, mismatches)
    except ClientError as exc:
        err = exc.response.get("Error", {})
        return ShadowReading(error=f"{err.get('Code')}: {err.get('Message')}")
    except (BotoCoreError, KeyError, ValueError) as exc:
        return ShadowReading(error=f"{type(exc).__name__}: {exc}")


def _entered(data: dict[str, Any] | None) -> tuple[str | None, str]:
    if not data or data.get("to") != SHADOW:
        return None, "backend"
    if data.get("backend_at"):
        return str(data["backend_at"]), "backend"
    return (str(data["at"]) if data.get("at") else None), "operator"
