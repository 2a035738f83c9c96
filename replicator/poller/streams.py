"""A legacy table's streams as sync sees them, and which ranges can no longer be read.

Pure helpers over the DynamoDB Streams client (ListStreams/DescribeStream, paginated) and over
saved positions, used by `table_sync`. `unreadable` is the gap rule (DESIGN.md, "Evidence and
the flip gate").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from replicator.poller.shard_reader import ShardCursor
from replicator.poller.shards import Shard, is_closed, parent_id, readable, shard_id


@dataclass
class StreamView:
    arn: str
    label: str
    shards: list[Shard] = field(default_factory=list)
    cursors: dict[str, ShardCursor] = field(default_factory=dict)

    def readable_cursors(self) -> list[ShardCursor]:
        done = {sid for sid, c in self.cursors.items() if c.done}
        return [self.cursors[shard_id(s)] for s in readable(self.shards, done)]

    @property
    def finished(self) -> bool:
        return all(c.done for c in self.cursors.values())


@dataclass(frozen=True)
class Unreadable:
    arn: str
    shard: str
    after: str | None  # last sequence applied from it, if any
    why: str
    history: bool = False  # gone before sync ever ran on the table: backfill copies it, not a gap


def unreadable(saved: dict[str, dict[str, Any]], views: dict[str, StreamView], first_run: bool) -> list[Unreadable]:
    """Shards sync should read but cannot: unfinished saved positions no longer listed, and
    listed shards whose parent is gone without having been read."""
    listed = {arn: {shard_id(s) for s in v.shards} for arn, v in views.items()}
    out = []
    for sid, doc in saved.items():
        arn = doc.get("stream_arn") or ""
        if not doc.get("done") and sid not in listed.get(arn, set()):
            why = "stream no longer listed" if arn not in listed else "shard no longer listed (trimmed)"
            out.append(Unreadable(arn, sid, doc.get("sequence"), why))
    known = set(saved) | {u.shard for u in out}
    for arn, view in views.items():
        for shard in view.shards:
            parent = parent_id(shard)
            if parent and parent not in listed[arn] and parent not in known:
                known.add(parent)
                out.append(Unreadable(arn, parent, None, "parent shard trimmed before it was read", first_run))
    return out


def reading_order(views: list[StreamView]) -> tuple[list[StreamView], list[str]]:
    """Streams in the order they must be read, and what contradicts their labels.

    A table has at most one enabled stream, and it is the newest: disabling a stream closes its
    shards, and re-enabling creates a new stream. So every stream whose shards are all closed is
    older than one with an open shard, whatever the labels say. Labels order streams only among
    themselves. A label order that puts a stream with open shards before a closed one, or two
    streams with open shards, contradicts that: reported (the caller records it), and never
    allowed to block the older, closed stream (reading it last is what used to loop forever).
    """
    by_label = sorted(views, key=lambda v: v.label)
    ordered = sorted(by_label, key=lambda v: any(not is_closed(s) for s in v.shards))
    problems = []
    open_streams = [v for v in by_label if any(not is_closed(s) for s in v.shards)]
    if [v.arn for v in ordered] != [v.arn for v in by_label] and open_streams:
        problems.append(
            f"stream {open_streams[0].label} has open shards but its label sorts before a stream whose shards "
            "are all closed; the closed streams are read first"
        )
    if len(open_streams) > 1:
        problems.append(
            f"{len(open_streams)} streams have open shards ({', '.join(v.label for v in open_streams)}); AWS "
            "enables one stream per table: the newer ones are not read until the older ones close"
        )
    return ordered, problems


def list_streams(client: Any, table: str) -> list[dict[str, Any]]:
    """Every stream ListStreams shows for `table`, oldest label first."""
    out: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        resp = client.list_streams(**kwargs)
        out += [s for s in resp.get("Streams", []) if s.get("TableName", table) == table]
        if not resp.get("LastEvaluatedStreamArn"):
            return sorted(out, key=lambda s: s["StreamLabel"])
        kwargs["ExclusiveStartStreamArn"] = resp["LastEvaluatedStreamArn"]


def describe_shards(client: Any, arn: str) -> list[Shard]:
    shards: list[Shard] = []
    kwargs: dict[str, Any] = {"StreamArn": arn}
    while True:
        try:
            desc = client.describe_stream(**kwargs)["StreamDescription"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return []  # expired between ListStreams and now: its unread positions become gaps
            raise
        shards += desc.get("Shards", [])
        last = desc.get("LastEvaluatedShardId")
        if not last:
            return shards
        kwargs["ExclusiveStartShardId"] = last
