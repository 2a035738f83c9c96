"""The read-source flag's values, its one owner and its mirror (docs/CONTRACT.md, "The read-source flag").

The owner is the flip `control` item of the reports table (pk `flip`, sk `control`), attribute
`readSource`: `cutover flip` sets it in the same conditional write that claims the flip, so what
readers obey and what the flip history records are one decision (DESIGN.md, "Evidence and the
flip gate"); SSM PutParameter cannot be conditional, so the SSM parameter is only a mirror for
people and dashboards, written after and never obeyed. No control item: never flipped, `legacy`.
The API reads the owner through a short cache (`app_handlers.read_source`) and shares `decode`;
`controlplane.flag_store` reads it uncached and writes the mirror. No AWS SDK here: `app_handlers.routing`
(a library) imports the values.
"""

from __future__ import annotations

import enum
import json
from typing import Any

READ_SOURCE = "readSource"  # the owner's attribute on the control item
KEY = {"pk": "flip", "sk": "control"}  # cutover.state's FLIP/CONTROL, spelled out: routing imports no SDK


class ReadSource(str, enum.Enum):
    LEGACY = "legacy"
    SHADOW = "shadow"
    V3 = "v3"


def decode(item: dict[str, Any] | None) -> str | None:
    """The owner's raw value in the (plain) control item; None if the item holds none.

    An item without `readSource` predates the flag's move here: its flip's `to` was the decision.
    """
    if item is None:
        return ReadSource.LEGACY.value
    if READ_SOURCE in item:
        return str(item[READ_SOURCE])
    try:
        return str(json.loads(item["data"])["to"])
    except (KeyError, TypeError, ValueError):
        return None


def outside_flip(item: dict[str, Any] | None) -> bool:
    """True if `readSource` was set by something other than `cutover flip` (the runbook's raw command)."""
    if item is None or READ_SOURCE not in item:
        return False
    try:
        return bool(json.loads(item["data"])["to"] != item[READ_SOURCE])
    except (KeyError, TypeError, ValueError):
        return True
