"""Binary attributes (B, BS) are legal legacy values: every document cutover writes about an item carries them."""

from __future__ import annotations

import json

import pytest
from boto3.dynamodb.types import Binary

from cutover.codec import json_default
from cutover.transform_errors import MissingKeyError, TransformError
from migrations.seed.transform import transform
from replicator.quarantine import QuarantineStore, entry_for


def test_json_default_writes_binaries_as_base64_and_binary_sets_by_their_bytes():
    doc = {"b": Binary(b"\x00\x01"), "raw": b"x", "bs": {Binary(b"\xff"), Binary(b"\x01")}}
    assert json.loads(json.dumps(doc, default=json_default)) == {"b": "AAE=", "raw": "eA==", "bs": ["AQ==", "/w=="]}


def test_a_bad_item_with_binaries_is_quarantined_and_read_back_unchanged(aws_memory):
    # Given a legacy user the contract rejects (no e-mail) that holds a binary, a binary set and nested binary
    settings, clients = aws_memory
    item = {"userId": "u1", "avatar": Binary(b"\x89PNG"), "keys": {Binary(b"\x01"), Binary(b"\xff")}}
    item["profile"] = {"icon": Binary(b"\x00")}
    with pytest.raises(TransformError) as rejected:
        transform("users", item)
    # When it is quarantined and read back
    store = QuarantineStore(clients.dynamodb, settings.names.quarantine_table)
    assert store.put(entry_for(rejected.value, settings.names.source_table("users"), item, "5", "backfill"))
    (entry,) = store.entries()
    # Then the stored item is the legacy item, binaries included
    assert entry.legacy_item() == item


def test_an_item_without_a_key_names_its_binaries_in_the_placeholder_key():
    item = {"avatar": Binary(b"x")}
    entry = entry_for(MissingKeyError("users", None, "has no string userId"), "t", item, "5", "backfill")
    assert entry.key == '<no key:{"avatar": "eA=="}>'
