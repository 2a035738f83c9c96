"""Quarantine entries only move forward: no replay re-opens, no resolver closes a newer entry (issues 9, 14.5)."""

from __future__ import annotations

import pytest

from migrations.seed.errors import InvalidEmailError
from replicator.apply import apply_plan
from replicator.changes import Change, plan
from replicator.quarantine import OPEN, RESOLVED, QuarantineStore, entry_for
from replicator.v3_writer import V3Writer

BAD = {"userId": "u1", "email": 42}
GOOD = {"userId": "u1", "email": "a@b"}


@pytest.fixture
def env(aws_memory):
    settings, clients = aws_memory
    names = settings.names
    return (
        names,
        QuarantineStore(clients.dynamodb, names.quarantine_table),
        V3Writer(clients.dynamodb, names.v3_table),
    )


def _bad_entry(names, version: str):
    err = InvalidEmailError("users", "u1", "email must be a string, got Decimal 42")
    return entry_for(err, names.source_table("users"), BAD, version, "replication")


def _apply(names, store, writer, event, old, new, version):
    change = Change("users", event, {"userId": "u1"}, old, new, version)
    return apply_plan(plan(change), writer, store, names.source_table("users"))


def test_resolve_is_conditional_on_the_entry_version_the_resolver_looked_at(env):
    names, store, _ = env
    # Given a resolver that looked at the open entry of version 1
    store.put(_bad_entry(names, "1"))
    seen = store.get("users", "u1")
    # When replication re-quarantines the item with a newer version before the resolver writes
    assert store.put(_bad_entry(names, "2"))
    # Then the resolve of what it saw refuses, and the newer entry stays open
    assert store.resolve("users", "u1", seen.version) is False
    assert store.get("users", "u1").status == OPEN and store.get("users", "u1").version == "2"


def test_replaying_an_old_bad_record_does_not_reopen_an_entry_a_newer_good_version_resolved(env):
    names, store, writer = env
    # Given a bad record (v1) quarantined, then the good fix (v2) applied by replication
    _apply(names, store, writer, "INSERT", None, BAD, "1")
    _apply(names, store, writer, "MODIFY", BAD, GOOD, "2")
    # Then the fix resolved the entry by itself, recording the version that resolved it
    entry = store.get("users", "u1")
    assert entry.status == RESOLVED and entry.resolved_by == "2"
    # When the old bad record is replayed (second consumer, crash before checkpoint, re-drive of a range)
    _apply(names, store, writer, "INSERT", None, BAD, "1")
    # Then the entry stays resolved
    assert store.get("users", "u1").status == RESOLVED


def test_a_good_record_does_not_resolve_a_newer_open_entry(env):
    names, store, writer = env
    # Given an open entry of version 3
    store.put(_bad_entry(names, "3"))
    # When an older good record (v2, whose old image was bad) is delivered late
    result = _apply(names, store, writer, "MODIFY", BAD, GOOD, "2")
    # Then the newer entry stays open
    assert result.resolved == 0 and store.get("users", "u1").status == OPEN


def test_a_good_record_after_a_good_one_writes_nothing_to_quarantine(env):
    names, store, writer = env
    # Given a good item updated to another good item (old image good): the cheap path
    result = _apply(names, store, writer, "MODIFY", GOOD, {**GOOD, "plan": "pro"}, "2")
    # Then no quarantine entry is created or touched
    assert result.resolved == 0 and store.get("users", "u1") is None


def test_deleting_a_bad_item_resolves_its_entry(env):
    names, store, writer = env
    # Given a quarantined bad item, When the source deletes it
    _apply(names, store, writer, "INSERT", None, BAD, "1")
    _apply(names, store, writer, "REMOVE", BAD, None, "2")
    # Then its entry is resolved by the delete's version
    entry = store.get("users", "u1")
    assert entry.status == RESOLVED and entry.resolved_by == "2"


def test_same_version_replay_of_a_bad_record_changes_nothing(env):
    names, store, _ = env
    # Given an entry of version 1, When the same record is quarantined again
    assert store.put(_bad_entry(names, "1"))
    # Then the put is a no-op
    assert store.put(_bad_entry(names, "1")) is False
