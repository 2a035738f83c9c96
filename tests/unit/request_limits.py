"""AWS request-size limits that moto does not enforce, as a botocore hook that records violations.

moto accepts a 500-key BatchGetItem or a 30-item BatchWriteItem that AWS rejects with a
ValidationException; the first time that would show is in production. Tests install
`LimitGuard` on a client so a run that builds an oversize request fails locally.
"""

from __future__ import annotations

import threading
from typing import Any

MAX_BATCH_GET_KEYS = 100
MAX_BATCH_WRITE_ITEMS = 25
MAX_TRANSACT_ITEMS = 100
MAX_ITEM_BYTES = 400 * 1024


def violations(operation: str, params: dict[str, Any]) -> list[str]:
    """What in one request's parameters AWS would reject (empty list: within limits)."""
    found: list[str] = []
    if operation == "BatchGetItem":
        keys = [k for t in params.get("RequestItems", {}).values() for k in t.get("Keys", [])]
        if len(keys) > MAX_BATCH_GET_KEYS:
            found.append(f"BatchGetItem with {len(keys)} keys (max {MAX_BATCH_GET_KEYS})")
        for table, spec in params.get("RequestItems", {}).items():
            seen = [repr(sorted(k.items())) for k in spec.get("Keys", [])]
            if len(seen) != len(set(seen)):
                found.append(f"BatchGetItem with duplicate keys for {table}")
    elif operation == "BatchWriteItem":
        n = sum(len(v) for v in params.get("RequestItems", {}).values())
        if n > MAX_BATCH_WRITE_ITEMS:
            found.append(f"BatchWriteItem with {n} items (max {MAX_BATCH_WRITE_ITEMS})")
    elif operation in ("TransactWriteItems", "TransactGetItems"):
        n = len(params.get("TransactItems", []))
        if n > MAX_TRANSACT_ITEMS:
            found.append(f"{operation} with {n} items (max {MAX_TRANSACT_ITEMS})")
    elif operation == "PutItem":
        size = _approx_size(params.get("Item", {}))
        if size > MAX_ITEM_BYTES:
            found.append(f"PutItem of about {size} bytes (max {MAX_ITEM_BYTES})")
    return found


def _approx_size(value: Any) -> int:
    if isinstance(value, dict):
        return sum(len(str(k)) + _approx_size(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return sum(_approx_size(v) for v in value)
    return len(str(value))


class LimitGuard:
    """Register on a DynamoDB client; every request is checked and violations collected."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def install(self, client: Any) -> LimitGuard:
        client.meta.events.register("provide-client-params.dynamodb.*", self._check)
        return self

    def _check(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        found = violations(model.name, params)
        with self._lock:
            self.calls[model.name] = self.calls.get(model.name, 0) + 1
            self.violations += found
