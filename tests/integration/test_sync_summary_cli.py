"""`cutover sync --once`'s summary says what happened: singular/plural, no rate for a sub-second
run (nor a `0/s` for a slow one), and "turned bad" only for a live v3 item that a bad change
tombstoned, never for an item that was bad from its first write."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from cutover.codec import from_ddb, to_ddb
from cutover_cli.app import main

pytestmark = pytest.mark.server


def cli(settings, *args):
    return CliRunner().invoke(main, [*args, "--endpoint-url", settings.endpoint_url, "--service", settings.service])


def _put(clients, table, item):
    clients.dynamodb.put_item(TableName=table, Item=to_ddb(item))


def test_one_record_is_singular_and_shows_no_meaningless_rate(settings, clients):
    # Given one legacy write
    _put(clients, settings.names.source_table("users"), {"userId": "u1", "email": "a@b.co"})
    # When sync drains it
    synced = cli(settings, "sync", "--once", "--quiet")
    assert synced.exit_code == 0, synced.output
    first = synced.output.splitlines()[0]
    # Then it says "1 record", and a rate only if honest (a second or more, never rounded to 0/s)
    assert re.match(r"sync done: 1 record in [\d.]+s(?: \(([\d.,]+)/s\))?: 1 changed v3", first), first
    shown = re.search(r"\(([\d.,]+)/s\)", first)
    seconds = float(re.search(r" in ([\d.]+)s", first).group(1))
    assert (shown is None) == (seconds < 1.0), first
    assert shown is None or float(shown.group(1)) > 0, first


def test_turned_bad_counts_only_live_items_a_bad_change_tombstoned(settings, clients):
    names = settings.names
    # Given users bad from their first write, and one good user already in v3
    for i in range(3):
        _put(clients, names.source_table("users"), {"userId": f"bad{i}", "email": 7})
    _put(clients, names.source_table("users"), {"userId": "good", "email": "g@b.co"})
    first = cli(settings, "sync", "--once", "--quiet")
    assert first.exit_code == 0, first.output
    # Then none of them "turned bad": v3 never served them (their keys were only guarded)
    assert "3 quarantined" in first.output and ", 0 tombstoned (the item turned bad)" in first.output, first.output
    # When the good user turns bad, and a bad one is written bad again
    _put(clients, names.source_table("users"), {"userId": "good", "email": 9})
    _put(clients, names.source_table("users"), {"userId": "bad0", "email": 8})
    second = cli(settings, "sync", "--once", "--quiet", "--json")
    assert second.exit_code == 0, second.output
    report = json.loads(second.stdout)
    # Then exactly the one that v3 was serving turned bad
    assert (report["quarantined"], report["tombstoned_bad"], report["tombstoned_guard"]) == (2, 1, 0), report
    v3 = clients.dynamodb.get_item(
        TableName=names.v3_table, Key=to_ddb({"userId": "good", "recordType": "PROFILE"}), ConsistentRead=True
    )
    assert from_ddb(v3["Item"]).get("_deleted") is True
