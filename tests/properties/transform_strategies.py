"""Hypothesis strategies for legacy items, built so the expected v3 values are known by construction.

Expected values are computed here with plain datetime arithmetic and string building, never by
calling the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLIS_THRESHOLD = 100_000_000_000
RESERVED = {"recordType", "entityType", "timestamp"}

# Moments with whole milliseconds, far enough from year 1/9999 that any offset stays in range.
moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


def contract_format(moment: datetime) -> str:
    """The contract's `YYYY-MM-DDTHH:MM:SS.mmmZ` for an aware UTC datetime, built by hand."""
    m = moment.astimezone(UTC)
    date = f"{m.year:04d}-{m.month:02d}-{m.day:02d}"
    return f"{date}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}.{m.microsecond // 1000:03d}Z"


@st.composite
def created_at(draw: st.DrawFn) -> tuple[Any, str]:
    """(legacy createdAt value, expected v3 timestamp) over every form the contract allows."""
    form = draw(st.sampled_from(["iso_offset", "iso_z", "iso_naive", "epoch_s", "epoch_ms"]))
    moment = draw(moments)
    spec = draw(st.sampled_from(["milliseconds", "microseconds"]))
    if form == "iso_offset":
        return moment.astimezone(draw(offsets)).isoformat(timespec=spec), contract_format(moment)
    if form == "iso_z":
        return moment.isoformat(timespec=spec).replace("+00:00", "Z"), contract_format(moment)
    if form == "iso_naive":
        return moment.replace(tzinfo=None).isoformat(timespec=spec), contract_format(moment)
    millis = (moment - EPOCH) // timedelta(milliseconds=1)
    if form == "epoch_ms" and millis >= MILLIS_THRESHOLD:
        return Decimal(millis), contract_format(moment)
    seconds = draw(st.integers(min_value=0, max_value=MILLIS_THRESHOLD - 1))
    fraction = draw(st.integers(min_value=0, max_value=999))
    value = Decimal(seconds) + Decimal(fraction) / 1000 if fraction else Decimal(seconds)
    return value, contract_format(EPOCH + timedelta(seconds=seconds, milliseconds=fraction))


@st.composite
def emails(draw: st.DrawFn) -> tuple[str, str]:
    """(legacy email with random case and surrounding whitespace, expected v3 email)."""
    local = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._+-", min_size=1, max_size=12))
    domain = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10))
    core = f"{local}@{domain}.com"
    upper = draw(st.lists(st.booleans(), min_size=len(core), max_size=len(core)))
    mixed = "".join(c.upper() if u else c for c, u in zip(core, upper, strict=True))
    pad = st.text(alphabet=" \t\n\r", max_size=3)
    return draw(pad) + mixed + draw(pad), core


keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-#", min_size=1, max_size=12)
attr_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", min_size=1, max_size=8).filter(
    lambda n: n not in RESERVED | {"userId", "orderId", "email", "createdAt"}
)
values = st.one_of(
    st.text(max_size=10),
    st.booleans(),
    st.none(),
    st.integers(min_value=-(10**12), max_value=10**12).map(Decimal),
    st.lists(st.text(max_size=5), max_size=3),
)
extras = st.dictionaries(attr_names, values, max_size=4)


@st.composite
def users(draw: st.DrawFn, with_created: bool | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(legacy users item, expected v3 item)."""
    user_id = draw(keys)
    raw_email, email = draw(emails())
    other = draw(extras)
    item = {**other, "userId": user_id, "email": raw_email}
    expected = {**other, "userId": user_id, "recordType": "PROFILE", "entityType": "USER", "email": email}
    if with_created if with_created is not None else draw(st.booleans()):
        value, stamp = draw(created_at())
        item["createdAt"], expected["timestamp"] = value, stamp
    return item, expected


@st.composite
def orders(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """(legacy orders item, expected v3 item)."""
    order_id, user_id = draw(keys), draw(keys)
    other = draw(extras)
    item = {**other, "orderId": order_id, "userId": user_id}
    expected = {
        **other,
        "userId": user_id,
        "recordType": "ORDER#" + order_id,
        "entityType": "ORDER",
        "orderId": order_id,
    }
    if draw(st.booleans()):
        value, stamp = draw(created_at())
        item["createdAt"], expected["timestamp"] = value, stamp
    return item, expected


def sourced_items() -> st.SearchStrategy[tuple[str, dict[str, Any], dict[str, Any]]]:
    return st.one_of(users().map(lambda p: ("users", *p)), orders().map(lambda p: ("orders", *p)))
