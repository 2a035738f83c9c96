"""A shadow phase that already ran, for tests about the OTHER gate rules (controlplane.gate_shadow).

Written through the same stores the API and `cutover flip` use: the flip control item gets the
record a `cutover flip shadow` made `seconds_ago` (on the backend's clock), and the API table
the comparisons an API would have recorded in that phase, `keys` distinct keys per kind of read.
Tests about the shadow rule itself produce their evidence through the API instead.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from app_handlers.reads import READS
from controlplane.gate import POLICY
from controlplane.gate_shadow import ShadowReading
from controlplane.shadow_evidence import MATCH, OUTCOMES, Batch, ShadowStore
from cutover.clock import iso
from cutover.codec import from_ddb, to_ddb
from cutover.state import CONTROL, FLIP


def long_ago() -> float:
    return 2 * POLICY.min_shadow_seconds


def complete_reading(now: datetime, mismatches: tuple[dict[str, Any], ...] = ()) -> ShadowReading:
    """Hand-built evidence (pure gate tests): a long phase, enough keys for every kind of read."""
    keys = int(POLICY.min_shadow_keys)
    reads = {op: {**dict.fromkeys(OUTCOMES, 0), MATCH: keys, "keys": keys} for op in READS}
    return ShadowReading("1", iso(now - timedelta(seconds=long_ago())), "backend", reads, mismatches)


def shadow_phase_done(settings: Any, clients: Any, seconds_ago: float | None = None, keys: int | None = None) -> None:
    """If the flag is on shadow: make its phase one that started `seconds_ago` with `keys` distinct
    keys compared per kind of read (defaults: twice the policy's time, the policy's keys)."""
    n = settings.names
    key = to_ddb({"pk": FLIP, "sk": CONTROL})
    got = clients.dynamodb.get_item(TableName=n.reports_table, Key=key, ConsistentRead=True).get("Item")
    item = from_ddb(got) if got else {}
    if item.get("readSource") != "shadow":
        return
    entered = datetime.now(UTC) - timedelta(seconds=long_ago() if seconds_ago is None else seconds_ago)
    data = {**json.loads(item.get("data") or "{}"), "to": "shadow", "at": iso(entered), "backend_at": iso(entered)}
    clients.dynamodb.update_item(
        TableName=n.reports_table,
        Key=key,
        UpdateExpression="SET #d = :d",
        ExpressionAttributeNames={"#d": "data"},
        ExpressionAttributeValues=to_ddb({":d": json.dumps(data)}),
    )
    phase, count = str(int(item["version"])), int(POLICY.min_shadow_keys if keys is None else keys)
    batch = Batch()
    for op in READS:
        batch.counts[(phase, op)] = {**dict.fromkeys(OUTCOMES, 0), MATCH: count}
        batch.keys |= {(phase, op, f"k{i}") for i in range(count)}
    ShadowStore(clients.dynamodb, n.api_table).write(batch)
