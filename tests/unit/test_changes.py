"""plan(): what one legacy change means for v3, by example (replicator.changes)."""

from __future__ import annotations

from cutover.transform_errors import MissingImageError
from migrations.seed.errors import InvalidEmailError
from replicator.changes import Change, plan


def change(source, event, keys, old=None, new=None, version="v2"):
    return Change(source, event, keys, old, new, version)


def test_insert_puts_the_transformed_item():
    p = plan(change("users", "INSERT", {"userId": "u"}, new={"userId": "u", "email": "A@X"}))
    assert [x.item["email"] for x in p.puts] == ["a@x"] and p.tombstones == () and p.quarantine is None


def test_modify_that_moves_an_order_tombstones_the_old_key():
    old, new = {"orderId": "o", "userId": "a"}, {"orderId": "o", "userId": "b"}
    p = plan(change("orders", "MODIFY", {"orderId": "o"}, old, new))
    assert [t.key for t in p.tombstones] == [("a", "ORDER#o")]
    assert [(x.item["userId"], x.item["recordType"]) for x in p.puts] == [("b", "ORDER#o")]


def test_modify_in_place_tombstones_nothing():
    old, new = {"orderId": "o", "userId": "a"}, {"orderId": "o", "userId": "a", "total": 1}
    assert plan(change("orders", "MODIFY", {"orderId": "o"}, old, new)).tombstones == ()


def test_remove_tombstones_old_keys():
    p = plan(change("orders", "REMOVE", {"orderId": "o"}, old={"orderId": "o", "userId": "a"}))
    assert [t.key for t in p.tombstones] == [("a", "ORDER#o")] and p.puts == ()


def test_user_remove_without_old_image_still_finds_its_key():
    p = plan(change("users", "REMOVE", {"userId": "u"}))
    assert [t.key for t in p.tombstones] == [("u", "PROFILE")]


def test_order_remove_without_old_image_is_quarantined():
    p = plan(change("orders", "REMOVE", {"orderId": "o"}))
    assert isinstance(p.quarantine.error, MissingImageError) and p.tombstones == ()


def test_bad_new_image_is_quarantined_and_old_copy_tombstoned():
    old, new = {"userId": "u", "email": "a@x"}, {"userId": "u", "email": "  "}
    p = plan(change("users", "MODIFY", {"userId": "u"}, old, new))
    assert isinstance(p.quarantine.error, InvalidEmailError) and p.quarantine.raw == new
    assert [t.key for t in p.tombstones] == [("u", "PROFILE")] and p.puts == ()


def test_source_ref_names_table_and_key():
    assert change("orders", "INSERT", {"orderId": "o9"}).source_ref == "orders#o9"
