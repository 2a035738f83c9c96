"""Shard lineage ordering on hand-built describe_stream shard lists (moto never splits shards)."""

from __future__ import annotations

from replicator.poller.shards import is_closed, lineage_order, readable


def shard(sid, start, parent=None, end=None):
    rng = {"StartingSequenceNumber": str(start)}
    if end is not None:
        rng["EndingSequenceNumber"] = str(end)
    out = {"ShardId": sid, "SequenceNumberRange": rng}
    if parent:
        out["ParentShardId"] = parent
    return out


def ids(shards):
    return [s["ShardId"] for s in shards]


def test_parent_comes_before_its_children_whatever_the_listing_order():
    # Given a listing where the children come first
    shards = [shard("c2", 300, "p"), shard("c1", 200, "p"), shard("p", 100, end=199)]
    # When ordered, Then the parent is first and its children follow in sequence order
    assert ids(lineage_order(shards)) == ["p", "c1", "c2"]


def test_multiple_generations_keep_every_ancestor_first():
    # Given three generations across two root shards, listed newest first
    shards = [
        shard("g", 900, "c1"),
        shard("c1", 500, "r1", end=899),
        shard("c2", 600, "r2"),
        shard("r2", 50, end=599),
        shard("r1", 10, end=499),
    ]
    order = ids(lineage_order(shards))
    # Then each shard comes after its parent
    for child, parent in (("g", "c1"), ("c1", "r1"), ("c2", "r2")):
        assert order.index(parent) < order.index(child)
    assert sorted(order) == sorted(ids(shards))


def test_only_shards_whose_parent_is_done_are_readable():
    shards = [shard("p", 1, end=99), shard("c1", 100, "p"), shard("c2", 150, "p")]
    # Given nothing done, Then only the parent may be read
    assert ids(readable(shards, done=set())) == ["p"]
    # Given the parent read to its end, Then both children are readable and the parent is not
    assert ids(readable(shards, done={"p"})) == ["c1", "c2"]


def test_a_trimmed_parent_counts_as_done():
    # Given a child whose parent is no longer listed (trimmed after 24 h) and a grandchild
    shards = [shard("c", 500, "gone", end=600), shard("gc", 700, "c")]
    # Then the child is readable at once; the grandchild waits for it
    assert ids(readable(shards, done=set())) == ["c"]
    assert ids(lineage_order(shards)) == ["c", "gc"]


def test_every_shard_is_kept_even_in_a_malformed_cycle():
    # Given a cycle DynamoDB never produces, Then no shard is silently dropped from the order
    shards = [shard("a", 1, "b"), shard("b", 2, "a"), shard("r", 0)]
    assert sorted(ids(lineage_order(shards))) == ["a", "b", "r"]


def test_closed_means_an_ending_sequence_number():
    assert is_closed(shard("p", 1, end=2)) and not is_closed(shard("o", 3))
