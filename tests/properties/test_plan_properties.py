"""Properties of plan() over generated changes, valid and invalid images alike."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transform_strategies import orders, users

from cutover.transform_errors import TransformError
from migrations.seed.transform import transform, v3_keys
from replicator.changes import Change, plan

relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
BAD = {"users": {"email": "   "}, "orders": {"userId": ""}}


@st.composite
def changes(draw: st.DrawFn) -> Change:
    """A change for one source item: old/new images that may be absent, valid, moved or bad."""
    source = draw(st.sampled_from(["users", "orders"]))
    strategy = users() if source == "users" else orders()
    key_name = "userId" if source == "users" else "orderId"
    key = draw(st.sampled_from(["k1", "k2"]))

    def image():
        item, _ = draw(strategy)
        item[key_name] = key
        if draw(st.integers(0, 4)) == 0:
            item.update(BAD[source])
        return item

    event = draw(st.sampled_from(["INSERT", "MODIFY", "REMOVE"]))
    old = image() if event != "INSERT" and draw(st.integers(0, 5)) else None
    new = image() if event != "REMOVE" and draw(st.integers(0, 5)) else None
    return Change(source, event, {key_name: key}, old, new, draw(st.sampled_from(["v1", "v2"])))


@relaxed
@given(changes())
def test_plan_invariants(change):
    p = plan(change)
    put_keys = {(x.item["userId"], x.item["recordType"]) for x in p.puts}
    tomb_keys = [t.key for t in p.tombstones]
    # Tombstones never include a key being written, and never repeat
    assert not put_keys & set(tomb_keys) and len(tomb_keys) == len(set(tomb_keys))
    # REMOVE never puts; a quarantined change never puts
    if change.event_name == "REMOVE" or p.quarantine is not None:
        assert p.puts == ()
    # Tombstones only cover keys the old image (or, for users, the key itself) occupied
    allowed = set(v3_keys(change.source, change.old)) if change.old is not None else set()
    if change.source == "users":
        allowed.add((change.keys["userId"], "PROFILE"))
    assert set(tomb_keys) <= allowed
    # Puts are exactly the transform of the new image; quarantine carries a typed error
    if p.puts:
        assert [x.item for x in p.puts] == transform(change.source, change.new)
    if p.quarantine is not None:
        assert isinstance(p.quarantine.error, TransformError)
    # Nothing is silently dropped: every change puts, tombstones or quarantines, except a REMOVE
    # whose old image never occupied a v3 key (it was bad, so it was quarantined, not written)
    removed_nothing = change.event_name == "REMOVE" and not v3_keys(change.source, change.old or {})
    assert p.puts or p.tombstones or p.quarantine is not None or removed_nothing


@relaxed
@given(changes())
def test_old_keys_are_tombstoned_unless_rewritten(change):
    # Every v3 key the old image held is either rewritten or tombstoned (no stale live copies).
    # Not for INSERT/MODIFY without NewImage (wrong stream view): plan quarantines those as
    # missing_image and, knowing nothing of the new state, leaves v3 alone.
    p = plan(change)
    if change.old is None or (change.event_name != "REMOVE" and change.new is None):
        return
    covered = {(x.item["userId"], x.item["recordType"]) for x in p.puts} | {t.key for t in p.tombstones}
    assert set(v3_keys(change.source, change.old)) <= covered
