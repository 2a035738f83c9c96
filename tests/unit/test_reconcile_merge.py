"""The merge reconcile: its digest, its on-disk sort, its join, and that it judges exactly as the page check.

The page-by-page check (reconciler/scan.py) is the reference: on the same planted differences both
methods must produce the same counts and the same differences, while the merge reads a clean table
with Scans alone (two reads per item instead of four).
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from boto3.dynamodb.types import Binary

from backfill.runner import run_backfill
from cutover.codec import to_ddb
from migrations.seed.transform import transform
from reconciler.fingerprint import digest
from reconciler.merge_join import legacy_record, suspects, v3_record
from reconciler.run import run_reconcile
from reconciler.spill import RunWriter, merged


def test_digest_ignores_bookkeeping_number_forms_and_set_order_but_not_values():
    # Given one item in the forms DynamoDB and the transform may produce
    base = {"userId": "u1", "n": Decimal("1.50"), "tags": {"a", "b"}, "m": {"x": [Decimal(0), "s"]}}
    same = {"m": {"x": [Decimal("0.0"), "s"]}, "tags": {"b", "a"}, "n": Decimal("1.5"), "userId": "u1", "_version": "9"}
    # Then equal values give equal digests, and any changed value another digest
    assert digest(base) == digest(same)
    for changed in (
        {**base, "n": Decimal("1.51")},
        {**base, "tags": {"a"}},
        {**base, "m": {"x": ["s", Decimal(0)]}},
        {**base, "extra": None},
        {**base, "userId": "u1 "},
    ):
        assert digest(changed) != digest(base), changed
    # And types count as DynamoDB's do (Python calls True == Decimal(1); DynamoDB a BOOL and an N)
    assert digest({"a": True}) != digest({"a": Decimal(1)})
    assert digest({"a": "ab", "b": "c"}) != digest({"a": "a", "b": "bc"})  # length-prefixed strings
    # And every one of DynamoDB's 38 digits counts (the old digest rounded to Decimal's 28)
    assert digest({"n": Decimal("1.234567890123456789012345678901234567")}) != digest(
        {"n": Decimal("1.234567890123456789012345678901234568")}
    )


def test_a_number_changed_only_in_digits_29_to_38_is_different_and_repaired(aws_memory):
    # Given a backfilled user whose legacy number then changed only in its 35th digit (stream record lost)
    settings, clients = aws_memory
    ddb, names = clients.dynamodb, settings.names
    old, new = Decimal("12345678901234567890.123456789012345678"), Decimal("12345678901234567890.123456789012355678")
    ddb.put_item(TableName=names.source_table("users"), Item=to_ddb({"userId": "u1", "email": "a@x", "balance": old}))
    run_backfill(settings, clients, segments=1, require_sync=False)
    ddb.put_item(TableName=names.source_table("users"), Item=to_ddb({"userId": "u1", "email": "a@x", "balance": new}))
    # When the full (merge) reconcile runs, the only kind the gate accepts, and then the page check
    merge = run_reconcile(settings, clients, segments=1, workers=1, method="merge", record=False)
    pages = run_reconcile(settings, clients, segments=1, workers=1, method="pages", record=False)
    # Then both report it different (this was CLEAN), and a repair makes v3 hold the new value
    assert merge.counts["different"] == pages.counts["different"] == 1
    repaired = run_reconcile(settings, clients, segments=1, workers=1, method="merge", repair=True, record=False)
    assert repaired.counts["repaired"] == 1
    item = ddb.get_item(TableName=names.v3_table, Key=to_ddb({"userId": "u1", "recordType": "PROFILE"}))["Item"]
    assert item["balance"] == {"N": "12345678901234567890.123456789012355678"}
    assert run_reconcile(settings, clients, segments=1, workers=1, method="merge", record=False).clean


@pytest.mark.parametrize(
    ("legacy", "v3"),
    [
        (True, Decimal(1)),  # BOOL vs N
        (b"a", "a"),  # B vs S
        ({"x"}, ["x"]),  # SS vs L
        ({Decimal(1)}, {"1"}),  # NS vs SS
    ],
)
def test_values_python_calls_equal_but_dynamodb_does_not_are_different(aws_memory, legacy, v3):
    # Given v3 holds a value of another DynamoDB type than transform(legacy) does (hand-planted)
    settings, clients = aws_memory
    ddb, names = clients.dynamodb, settings.names
    ddb.put_item(TableName=names.source_table("users"), Item=to_ddb({"userId": "u1", "email": "a@x", "attr": legacy}))
    run_backfill(settings, clients, segments=1, require_sync=False)
    key = to_ddb({"userId": "u1", "recordType": "PROFILE"})
    ddb.update_item(TableName=names.v3_table, Key=key, UpdateExpression="SET attr = :v",
                    ExpressionAttributeValues={":v": to_ddb({"v": v3})["v"]})  # fmt: skip
    # Then both reconcile methods find the difference
    for method in ("merge", "pages"):
        result = run_reconcile(settings, clients, segments=1, workers=1, method=method, record=False)
        assert result.counts["different"] == 1, (method, result.counts)


def test_spilled_runs_merge_into_one_sorted_stream_through_intermediate_merges(tmp_path):
    # Given 5,000 shuffled records spilled in runs of 97 by three writers (more runs than the fan-in)
    rng = random.Random(3)
    records = [(f"u{rng.randrange(1000):04d}", f"ORDER#{i}", i % 2, b"d") for i in range(5_000)]
    rng.shuffle(records)
    writers = [RunWriter(tmp_path, f"w{n}", run_records=97) for n in range(3)]
    for i, record in enumerate(records):
        writers[i % 3].add(record)
    for writer in writers:
        writer.flush()
    paths = [p for w in writers for p in w.paths]
    assert len(paths) > 8
    # When they are merged with a fan-in of 4
    out = list(merged(paths, tmp_path, fan_in=4))
    # Then every record comes back exactly once, in order, and the intermediate files are gone
    assert out == sorted(records)
    assert len(list(tmp_path.glob("*.run"))) <= 4


def test_the_join_suspects_exactly_the_keys_whose_sides_differ():
    # Given sorted records: equal, differing, legacy-only, v3-only
    records = sorted(
        [
            legacy_record(("u1", "PROFILE"), b"same", "users", "u1"),
            v3_record(("u1", "PROFILE"), b"same", "users", "u1"),
            legacy_record(("u2", "PROFILE"), b"want", "users", "u2"),
            v3_record(("u2", "PROFILE"), b"have", "users", "u2"),
            legacy_record(("u3", "ORDER#o3"), b"x", "orders", "o3"),
            v3_record(("u4", "ORDER#o3"), b"x", "orders", "o3"),
        ]
    )
    calls: list[tuple[str, object]] = []

    class Recorder:
        def confirm_legacy(self, source, key, target=None):
            calls.append(("legacy", (source, key)))

        def confirm_v3(self, key):
            calls.append(("v3", key))

    # When the join runs
    for confirm in suspects(records):
        confirm(Recorder())
    # Then only the differing, missing and extra keys are re-checked, each from its own side, and a
    # differing key from both (its source may be gone by its re-check, leaving the live item extra)
    assert calls == [
        ("legacy", ("users", "u2")),
        ("v3", ("u2", "PROFILE")),
        ("legacy", ("orders", "o3")),
        ("v3", ("u4", "ORDER#o3")),
    ]


def test_the_join_orders_keys_of_any_type_and_meets_equal_numbers_in_one_place():
    # Given numeric and binary keys, one number written two ways (1.50 on one side, 1.5 on the other)
    records = sorted(
        [
            legacy_record((Decimal("1.50"), b"\x01"), b"d", "readings", "k1"),
            v3_record((Decimal("1.5"), Binary(b"\x01")), b"d", "readings", "k1"),
            legacy_record((Decimal(10), b"\x00"), b"d", "readings", "k10"),
            v3_record((Decimal(-2), b"\xff"), b"d", "readings", "k-2"),
            # equal content at the key, but the live item names another source: the page check reads that one
            legacy_record(("a", b"\x02"), b"d", "readings", "k2"),
            v3_record(("a", b"\x02"), b"d", "readings", "elsewhere"),
        ]
    )
    calls: list[tuple[str, object]] = []

    class Recorder:
        def confirm_legacy(self, source, key, target=None):
            calls.append(("legacy", target))

        def confirm_v3(self, key):
            calls.append(("v3", key))

    for confirm in suspects(records):
        confirm(Recorder())
    # Then the equal pair is matched, the rest confirmed with their own (unconverted) key values
    assert sorted(map(repr, calls)) == sorted(
        map(
            repr,
            [
                ("legacy", (Decimal(10), b"\x00")),
                ("v3", (Decimal(-2), b"\xff")),
                ("legacy", ("a", b"\x02")),  # its bookkeeping is wrong: rewritten by a repair...
                ("v3", ("a", b"\x02")),  # ...and, as its `_source` says, an orphan
            ],
        )
    )


def _plant(settings, clients) -> None:
    """40 users, 20 orders (one bad), backfilled; then one of each kind of difference."""
    ddb, names = clients.dynamodb, settings.names
    for i in range(40):
        ddb.put_item(TableName=names.source_table("users"), Item=to_ddb({"userId": f"u{i:02d}", "email": f"u{i}@x"}))
    for i in range(20):
        order = {"orderId": f"o{i:02d}", "userId": f"u{i:02d}", "total": Decimal("1.50")}
        if i == 7:
            del order["userId"]  # bad: quarantined by the backfill
        ddb.put_item(TableName=names.source_table("orders"), Item=to_ddb(order))
    run_backfill(settings, clients, segments=2, require_sync=False)
    ddb.delete_item(TableName=names.v3_table, Key=to_ddb({"userId": "u03", "recordType": "PROFILE"}))  # missing
    ddb.put_item(
        TableName=names.source_table("users"), Item=to_ddb({"userId": "u04", "email": "changed@x"})
    )  # different
    ddb.delete_item(TableName=names.source_table("users"), Key=to_ddb({"userId": "u05"}))  # extra: source deleted
    moved = {**transform("orders", {"orderId": "o06", "userId": "u06"})[0], "userId": "u99", "_version": "1"}
    ddb.put_item(TableName=names.v3_table, Item=to_ddb(moved))  # extra: stale location
    ddb.put_item(TableName=names.v3_table, Item=to_ddb({"userId": "u01", "recordType": "NOTE#1", "_version": "1"}))
    ddb.put_item(
        TableName=names.source_table("users"), Item=to_ddb({"userId": "u08", "createdAt": "last tuesday"})
    )  # bad


@pytest.mark.parametrize("repair", [False, True])
def test_merge_judges_and_repairs_exactly_as_the_page_check(aws_memory, tmp_path, monkeypatch, repair):
    settings, clients = aws_memory
    # Given every kind of difference planted, and runs of 5 records so the merge really spills and merges
    _plant(settings, clients)
    monkeypatch.setattr("reconciler.spill.RUN_RECORDS", 5)
    calls: dict[str, int] = {}
    clients.dynamodb.meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.__setitem__(model.name, calls.get(model.name, 0) + 1)
    )
    # When the page check runs without repair (the reference), then the merge (with or without repair)
    pages = run_reconcile(settings, clients, segments=2, workers=2, method="pages", record=False)
    calls.clear()
    merge = run_reconcile(settings, clients, segments=2, workers=2, method="merge", repair=repair, record=False)
    # Then the merge finds the same differences with the same counts, without a single batch read
    assert not pages.clean and pages.counts["missing"] == 1 and pages.counts["different"] == 1
    assert pages.counts["extra"] == 4 and pages.counts["unquarantined"] == 1  # u05, o06 moved, NOTE#1, u08 bad
    if repair:
        assert merge.counts["repaired"] == pages.differences == 7 and merge.counts["remaining"] == 0
        assert {k: v for k, v in merge.counts.items() if k not in ("repaired", "remaining")} == {
            k: v for k, v in pages.counts.items() if k not in ("repaired", "remaining")
        }
    else:
        assert merge.counts == pages.counts
    assert sorted(repr((d.kind, d.source_key, d.v3_key)) for d in merge.shown) == sorted(
        repr((d.kind, d.source_key, d.v3_key)) for d in pages.shown
    )
    assert calls.get("BatchGetItem", 0) == 0
    # And after a repair, the next merge run is clean
    if repair:
        again = run_reconcile(settings, clients, segments=2, workers=2, method="merge", record=False)
        assert again.clean, again.counts


@pytest.mark.parametrize("method", ["merge", "pages"])
def test_a_stale_item_whose_source_is_deleted_while_it_is_checked_is_an_extra(aws_memory, monkeypatch, method):
    # Given a backfilled user whose legacy item then changed (its stream record lost), so v3 is stale
    settings, clients = aws_memory
    ddb, names = clients.dynamodb, settings.names
    users = names.source_table("users")
    ddb.put_item(TableName=users, Item=to_ddb({"userId": "u1", "email": "a@x", "name": "old"}))
    run_backfill(settings, clients, segments=1, require_sync=False)
    ddb.put_item(TableName=users, Item=to_ddb({"userId": "u1", "email": "a@x", "name": "new"}))
    # And the legacy item is deleted after the scans and before the re-check (that delete lost too)
    from reconciler.checker import Checker

    confirm = Checker.confirm_legacy

    def deleted_first(self, source, key, target=None):
        ddb.delete_item(TableName=users, Key=to_ddb({"userId": "u1"}))
        return confirm(self, source, key, target)

    monkeypatch.setattr(Checker, "confirm_legacy", deleted_first)
    # When the reconcile runs
    result = run_reconcile(settings, clients, segments=1, workers=1, method=method, record=False)
    # Then the v3 item left without a source is reported extra (the merge called this CLEAN)
    assert not result.clean and result.counts["extra"] == 1, result.counts
