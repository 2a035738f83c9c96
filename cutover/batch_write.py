"""BatchWriteItem within AWS limits: <= 25 puts per request, every UnprocessedItems retried.

Only for unconditional bulk loads (the demo's and the bench's seed data): a BatchWriteItem cannot
carry a condition, so nothing that writes v3 may use it (DESIGN.md, "Backfill's write path").
DynamoDB answers a throttled or oversized batch with UnprocessedItems, not an error; a loader
that ignores that field loses writes silently, so this one retries them with backoff and raises
if some are still left.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from cutover.codec import to_ddb
from cutover.errors import BackendError
from cutover.retry import backoff_delay

MAX_BATCH_WRITE_ITEMS = 25


def batch_write(client: Any, table: str, items: Iterable[dict[str, Any]], max_attempts: int = 10) -> int:
    """Write plain `items` to `table` in 25-item requests. Returns how many were written.

    Raises:
        BackendError: some items were still unprocessed after `max_attempts` tries of a request.
    """
    chunk: list[dict[str, Any]] = []
    written = 0
    for item in items:
        chunk.append(to_ddb(item))
        if len(chunk) == MAX_BATCH_WRITE_ITEMS:
            written += write_serialised(client, table, chunk, max_attempts)
            chunk = []
    if chunk:
        written += write_serialised(client, table, chunk, max_attempts)
    return written


def write_serialised(
    client: Any,
    table: str,
    items: list[dict[str, Any]],
    max_attempts: int = 10,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """One request's worth (<= 25) of already-serialised items, retrying UnprocessedItems."""
    if len(items) > MAX_BATCH_WRITE_ITEMS:
        raise ValueError(f"BatchWriteItem takes at most {MAX_BATCH_WRITE_ITEMS} requests, got {len(items)}")
    pending: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in items]}
    for attempt in range(max_attempts):
        pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        if not pending:
            return len(items)
        sleep(backoff_delay(attempt, base=0.05, cap=2.0))
    left = sum(len(v) for v in pending.values())
    raise BackendError(
        f"{table}: {left} items still unprocessed after {max_attempts} BatchWriteItem attempts; "
        "lower the load and re-run"
    )
