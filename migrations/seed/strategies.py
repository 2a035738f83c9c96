"""Hypothesis strategies for the seed's legacy shapes, registered in `MIGRATION.strategies` so
`cutover check` also exercises the positive path (a random attribute is rarely a valid e-mail).

Imported only by `cutover check` (hypothesis is a CLI dependency, never in a Lambda bundle).
`cutover check` adds the key attributes where an item lacks them and arbitrary extra attributes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

_moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC))
_offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
_letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-"


def created_at() -> st.SearchStrategy[Any]:
    """Every form the contract accepts (ISO with or without offset, epoch seconds and millis),
    and a few it refuses."""
    iso = st.builds(
        lambda moment, offset, spec: moment.astimezone(offset).isoformat(timespec=spec),
        _moments,
        _offsets,
        st.sampled_from(["seconds", "milliseconds", "microseconds"]),
    )
    naive = _moments.map(lambda m: m.replace(tzinfo=None).isoformat())
    seconds = st.integers(min_value=-(10**10), max_value=99_999_999_999).map(Decimal)
    millis = st.integers(min_value=100_000_000_000, max_value=253_402_300_799_999).map(Decimal)
    bad = st.one_of(st.text(max_size=12), st.booleans(), st.just(Decimal(10) ** 20), st.none())
    return st.one_of(iso, naive, seconds, millis, bad)


def email() -> st.SearchStrategy[Any]:
    """Mostly e-mails in random case with surrounding whitespace; sometimes not a string, or blank."""
    local = st.text(alphabet=_letters, min_size=1, max_size=12)
    domain = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)
    pad = st.text(alphabet=" \t\n\r", max_size=3)
    good = st.builds(lambda a, loc, dom, b: f"{a}{loc}@{dom}.COM{b}", pad, local, domain, pad)
    bad = st.one_of(st.just(""), st.just("  "), st.integers().map(Decimal), st.booleans(), st.none())
    return st.sampled_from([True, True, True, False]).flatmap(lambda ok: good if ok else bad)


def users() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"email": email()}, optional={"createdAt": created_at()})


def orders() -> st.SearchStrategy[dict[str, Any]]:
    ids = st.text(min_size=1, max_size=12)
    user_id = st.sampled_from(["id"] * 4 + ["empty", "number"]).flatmap(
        lambda which: {"id": ids, "empty": st.just(""), "number": st.integers().map(Decimal)}[which]
    )
    return st.fixed_dictionaries({"userId": user_id}, optional={"createdAt": created_at(), "email": email()})
