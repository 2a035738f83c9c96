"""Page through one segment of a parallel Scan, starting from a saved cursor.

Yields one page at a time (never a table): callers hold at most a page (<= 1 MB) per segment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cutover.retry import call_with_retry


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]  # DynamoDB JSON, as Scan returns them
    next_key: dict[str, Any] | None  # LastEvaluatedKey: None means the segment is finished


def scan_pages(
    client: Any,
    table: str,
    *,
    segment: int,
    segments: int,
    start_key: dict[str, Any] | None = None,
    limit: int | None = None,
    consistent: bool = False,
) -> Iterator[Page]:
    kwargs: dict[str, Any] = {"TableName": table, "Segment": segment, "TotalSegments": segments}
    if limit:
        kwargs["Limit"] = limit
    if consistent:
        kwargs["ConsistentRead"] = True
    key = start_key
    while True:
        if key:
            kwargs["ExclusiveStartKey"] = key
        resp = call_with_retry(lambda: client.scan(**kwargs))
        key = resp.get("LastEvaluatedKey") or None
        yield Page(resp.get("Items", []), key)
        if key is None:
            return
