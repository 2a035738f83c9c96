"""Realistic messy sample items of the seed's schema, as four-year-old production data looks:
three createdAt forms (ISO with and without offset, epoch seconds, epoch milliseconds), e-mails
with stray case and whitespace, nested maps, lists, sets, booleans and numbers, and about 1% bad
items that the transform must quarantine. Deterministic (a seeded RNG), so two runs of `make
bench` measure the same data; the bench (bench/data.py) seeds and times them.

Pure like the definition beside it: no AWS SDK, no I/O.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from migrations.seed.transform import ORDERS, USERS

ROLES = (USERS, ORDERS)  # the source roles these items are of

BAD_EVERY = 97  # about 1% of items are bad input
_TAGS = ("vip", "beta", "churn-risk", "newsletter", "eu", "us", "mobile")
_CITIES = ("Lisbon", "Oslo", "Austin", "Osaka", "Lagos", "Lima", "Perth")


def _created_at(rng: random.Random, i: int) -> Any:
    epoch = 1_500_000_000 + rng.randrange(200_000_000)
    form = i % 4
    if form == 0:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
    if form == 1:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + ".123+05:30"
    if form == 2:
        return Decimal(epoch)
    return Decimal(epoch * 1000 + rng.randrange(1000))


def user_item(i: int, rng: random.Random, prefix: str = "u") -> dict[str, Any]:
    item: dict[str, Any] = {
        "userId": f"{prefix}{i:08d}",
        "email": f"  User.{i}@Example.COM " if i % 3 == 0 else f"user{i}@example.com",
        "createdAt": _created_at(rng, i),
        "name": f"User Number {i}",
        "active": bool(i % 5),
        "loginCount": Decimal(rng.randrange(10_000)),
        "balance": Decimal(rng.randrange(1_000_000)) / 100,
        "address": {
            "city": rng.choice(_CITIES),
            "zip": f"{rng.randrange(99999):05d}",
            "lines": ["1 Main St", f"Apt {i % 50}"],
        },
        "tags": set(rng.sample(_TAGS, 2)),
        "prefs": {"theme": "dark" if i % 2 else "light", "emails": i % 4 != 0, "locale": "en-GB"},
    }
    if i % BAD_EVERY == 5:
        item["email"] = None if i % 2 else "   "  # missing / empty e-mail -> quarantine
        if item["email"] is None:
            del item["email"]
    elif i % BAD_EVERY == 11:
        item["createdAt"] = "last tuesday"  # unparseable timestamp -> quarantine
    return item


def order_item(i: int, rng: random.Random, prefix: str = "o") -> dict[str, Any]:
    lines: list[dict[str, Any]] = [
        {
            "sku": f"SKU-{rng.randrange(5000)}",
            "qty": Decimal(rng.randrange(1, 5)),
            "price": Decimal(rng.randrange(100, 99_999)) / 100,
        }
        for _ in range(1 + i % 3)
    ]
    item: dict[str, Any] = {
        "orderId": f"{prefix}{i:08d}",
        "userId": f"u{rng.randrange(max(i, 1)):08d}",
        "createdAt": _created_at(rng, i + 1),
        "status": rng.choice(("PLACED", "PAID", "SHIPPED", "DELIVERED", "RETURNED")),
        "total": sum((line["price"] * line["qty"] for line in lines), Decimal(0)),
        "currency": "EUR",
        "lines": lines,
        "gift": i % 11 == 0,
    }
    if i % BAD_EVERY == 7:
        del item["userId"]  # no userId -> quarantine (a number would break the legacy GSI's S key)
    return item


def legacy_items(count: int, seed: int = 7, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """`count` (source, item) pairs, two users for every order, deterministic."""
    rng = random.Random(seed)
    for i in range(count):
        if i % 3 == 2:
            yield ORDERS, order_item(i, rng, prefix + "o")
        else:
            yield USERS, user_item(i, rng, prefix + "u")
