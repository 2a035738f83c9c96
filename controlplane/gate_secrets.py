"""The gate's rotation rule: after a transform secret rotates, v3 holds items of two versions.

Every item written before the rotation (and by warm Lambdas after it, until they cold-start)
was transformed under the old version, so a reconcile at the new one reports each as different.
Only a full (unsampled) `reconcile --repair` that STARTED after the rotation re-transforms every
item at the new version; one that started before it read some items at the old one, even if it
finished later. It must have ended clean (nothing left to repair).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from controlplane.gate_reconcile import parse


def rotation_failures(rotations: Iterable[dict[str, Any]], last_repair: dict[str, Any] | None) -> list[str]:
    """One failure per rotated secret that no full, clean repair started after (`secret_pins.Pin.to_dict`)."""
    repair = last_repair or {}
    started = parse(repair.get("started_at"))
    counts = repair.get("repair", True) and repair.get("sample") is None and bool(repair.get("clean"))
    out = []
    for rotation in rotations:
        at = parse(rotation.get("rotated_at"))
        if at is not None and counts and started is not None and started > at:
            continue
        out.append(
            f"secret {rotation.get('secret')} was rotated to version {rotation.get('version')} at "
            f"{rotation.get('rotated_at')} and no full, clean `cutover reconcile --repair` has started since: "
            "run it once every transforming Lambda has cold-started, then `cutover reconcile` "
            "(runbooks/deploy.md, rotating a transform secret)"
        )
    return out
