"""The shadow evidence layout in the API table (controlplane.shadow_evidence), on in-process moto."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from controlplane.shadow_evidence import MATCH, OUTCOMES, Batch, Mismatch, ShadowStore
from cutover.names import Names


@pytest.fixture
def store():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        spec = Names("svc", "dev").api_spec()
        client.create_table(**spec.create_table_kwargs())
        yield ShadowStore(client, spec.name)


def _mismatch(at: str, n: int = 1) -> Batch:
    m = Mismatch("get_user", {"userId": "u1"}, ["name"], at, at, n, "3")
    return Batch(mismatches={("get_user", "d1"): m})


def test_distinct_keys_are_counted_by_item_whatever_the_instances_and_flushes(store):
    # Given two API instances that compared overlapping keys, each flushing twice
    for keys in (range(0, 6), range(4, 10)):
        for half in (keys[: len(keys) // 2], keys[len(keys) // 2 :]):
            batch = Batch(counts={("3", "get_user"): {**dict.fromkeys(OUTCOMES, 0), MATCH: len(half)}})
            batch.keys |= {("3", "get_user", f"k{i}") for i in half}
            store.write(batch)
    # Then the phase holds 12 comparisons on 10 distinct keys, and another phase none
    assert store.reads("3") == {"get_user": {**dict.fromkeys(OUTCOMES, 0), MATCH: 12, "keys": 10}}
    assert store.reads("4") == {}


def test_a_mismatchs_last_time_only_moves_forward(store):
    # Given an occurrence flushed at T2, then an older one (T1) flushed late by another instance
    store.write(_mismatch("2001-01-01T00:00:02.000Z"))
    store.write(_mismatch("2001-01-01T00:00:01.000Z", n=2))
    # Then the mismatch is as recent as its newest occurrence, and every occurrence is counted
    (m,) = store.mismatches()
    assert (m["last_at"], m["first_at"], m["count"]) == ("2001-01-01T00:00:02.000Z", "2001-01-01T00:00:02.000Z", 3)
    assert (m["op"], m["keys"], m["differing"], m["phase"]) == ("get_user", {"userId": "u1"}, ["name"], "3")
    # And a newer occurrence moves it
    store.write(_mismatch("2001-01-01T00:00:03.000Z"))
    assert store.mismatches()[0]["last_at"] == "2001-01-01T00:00:03.000Z"
    # And each write also keeps when the backend answered it (its Date), the gate's one clock
    assert store.mismatches()[0]["last_backend_at"]


def test_a_write_that_fails_part_way_leaves_only_the_unwritten_parts(store, monkeypatch):
    # Given a batch whose counter write fails after its key was written
    batch = Batch(counts={("3", "get_user"): {**dict.fromkeys(OUTCOMES, 0), MATCH: 1}})
    batch.keys.add(("3", "get_user", "k1"))
    real = store._client.update_item

    def throttled(**kwargs):
        if kwargs["Key"]["sk"]["S"].startswith("reads#"):
            raise RuntimeError("throttled")
        return real(**kwargs)

    monkeypatch.setattr(store._client, "update_item", throttled)
    with pytest.raises(RuntimeError):
        store.write(batch)
    # Then the batch keeps the counter only: a retry adds it once and writes the key no more
    assert (set(batch.counts), batch.keys) == ({("3", "get_user")}, set())
