"""Shard lineage of a DynamoDB stream: which shards may be read now, and in what order.

DynamoDB splits a shard into children when it closes. Records for one key can move from the
parent to a child, so a child is read only after its parent is closed and fully read; otherwise
an older change could be applied after a newer one. A parent that is no longer listed (trimmed
after 24 h) cannot be read any more and counts as done HERE; `table_sync` first decides whether
it was read, was history before sync started, or is a gap to report. Pure functions over the `Shards` list
that `describe_stream` returns, so lineage is testable without a backend (moto never splits).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Shard = Mapping[str, Any]


def shard_id(shard: Shard) -> str:
    return str(shard["ShardId"])


def parent_id(shard: Shard) -> str | None:
    return shard.get("ParentShardId") or None


def is_closed(shard: Shard) -> bool:
    """A closed shard has an EndingSequenceNumber: it receives no new records."""
    return "EndingSequenceNumber" in shard.get("SequenceNumberRange", {})


def _start(shard: Shard) -> int:
    return int(shard.get("SequenceNumberRange", {}).get("StartingSequenceNumber", "0") or 0)


def lineage_order(shards: Sequence[Shard]) -> list[Shard]:
    """Every shard, each after its parent; among peers, older (lower starting sequence) first.

    Parents missing from the list are treated as done, so their children act as roots.
    A cycle (never produced by DynamoDB) would leave shards out; they are appended last rather
    than dropped, so nothing is silently never read.
    """
    by_id = {shard_id(s): s for s in shards}
    children: dict[str | None, list[Shard]] = {}
    for s in shards:
        parent = parent_id(s)
        children.setdefault(parent if parent in by_id else None, []).append(s)
    ordered: list[Shard] = []
    seen: set[str] = set()
    frontier = sorted(children.get(None, []), key=_start)
    while frontier:
        current = frontier.pop(0)
        if shard_id(current) in seen:
            continue
        seen.add(shard_id(current))
        ordered.append(current)
        frontier = sorted(frontier + children.get(shard_id(current), []), key=_start)
    ordered += [s for s in shards if shard_id(s) not in seen]
    return ordered


def readable(shards: Sequence[Shard], done: Iterable[str]) -> list[Shard]:
    """Shards that may be read now: not done, and whose parent is done or no longer listed."""
    finished = set(done)
    listed = {shard_id(s) for s in shards}
    return [
        s
        for s in lineage_order(shards)
        if shard_id(s) not in finished
        and (parent_id(s) is None or parent_id(s) not in listed or parent_id(s) in finished)
    ]
