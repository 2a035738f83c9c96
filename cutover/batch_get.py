"""BatchGetItem within AWS limits: <= 100 distinct keys per request, UnprocessedKeys retried.

DynamoDB returns UnprocessedKeys when a request is throttled or its response would pass 16 MB;
ignoring them silently turns "not read" into "missing". Duplicate keys in one request are a
ValidationException on AWS (moto accepts them), so keys are de-duplicated first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import Any, TypeVar

from cutover.codec import from_ddb, to_ddb
from cutover.retry import backoff_delay, call_with_retry

MAX_BATCH_GET_KEYS = 100
Key = tuple[str, ...]
T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def batch_get(
    client: Any,
    table: str,
    key_names: Sequence[str],
    keys: Iterable[Key],
    *,
    consistent: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[Key, dict[str, Any]]:
    """Plain items found for `keys` (absent keys are simply not in the result)."""
    unique = list(dict.fromkeys(keys))
    found: dict[Key, dict[str, Any]] = {}
    for chunk in chunks(unique, MAX_BATCH_GET_KEYS):
        request: dict[str, Any] = {
            table: {"Keys": [to_ddb(dict(zip(key_names, k, strict=True))) for k in chunk], "ConsistentRead": consistent}
        }
        attempt = 0
        while request:
            pending = request
            resp = call_with_retry(partial(client.batch_get_item, RequestItems=pending))
            for raw in resp.get("Responses", {}).get(table, []):
                item = from_ddb(raw)
                found[tuple(item[n] for n in key_names)] = item
            request = resp.get("UnprocessedKeys") or {}
            if request:
                sleep(backoff_delay(attempt))
                attempt += 1
    return found


def get_item(client: Any, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """One strongly consistent read (the reconciler's re-check before it reports anything)."""
    resp = call_with_retry(lambda: client.get_item(TableName=table, Key=to_ddb(key), ConsistentRead=True))
    return from_ddb(resp["Item"]) if "Item" in resp else None
