"""Seed data shaped like four years of legacy writes: mixed timestamp formats, messy emails, bad items.

Written with `cutover.batch_write` (25 items per call, AWS's limit, every UnprocessedItems retried:
ignoring that field is how batch loaders silently lose writes).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from cutover.batch_write import MAX_BATCH_WRITE_ITEMS as BATCH
from cutover.batch_write import batch_write

__all__ = ["BATCH", "bad_items", "batch_write", "created_at", "messy_email", "order", "user"]
_START = datetime(2021, 1, 1, tzinfo=UTC)


def created_at(rng: random.Random) -> Any:
    """One legacy createdAt in any of the formats the legacy app has written over the years."""
    moment = _START + timedelta(seconds=rng.randrange(0, 4 * 365 * 86400), milliseconds=rng.randrange(1000))
    form = rng.randrange(5)
    if form == 0:
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if form == 1:
        return moment.astimezone(timezone(timedelta(hours=rng.choice((-5, 2, 9))))).isoformat()
    if form == 2:
        return moment.replace(tzinfo=None).isoformat(timespec="seconds")  # no offset: UTC
    if form == 3:
        return int(moment.timestamp())  # epoch seconds
    return int(moment.timestamp() * 1000)  # epoch milliseconds


def messy_email(rng: random.Random, name: str) -> str:
    return rng.choice(
        (
            f"{name}@example.com",
            f"{name.upper()}@Example.COM",
            f"  {name}@example.com ",
            f"{name.title()}@EXAMPLE.com\t",
        )
    )


def user(rng: random.Random, i: int) -> dict[str, Any]:
    item = {
        "userId": f"user-{i:05d}",
        "email": messy_email(rng, f"user{i}"),
        "name": f"User {i}",
        "plan": rng.choice(("free", "pro", "team")),
    }
    if rng.random() > 0.03:  # a few legacy users never had createdAt
        item["createdAt"] = created_at(rng)
    return item


def order(rng: random.Random, i: int, user_ids: list[str]) -> dict[str, Any]:
    return {
        "orderId": f"order-{i:05d}",
        "userId": rng.choice(user_ids),
        "createdAt": created_at(rng),
        "total": Decimal(rng.randrange(100, 50_000)) / 100,
        "status": rng.choice(("placed", "paid", "shipped")),
    }


def bad_items(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Items the contract says must be quarantined: no email, unparseable createdAt, order without userId."""
    users = [{"userId": f"bad-user-{i}", "name": "no email"} for i in range(3)]
    users += [{"userId": f"bad-ts-{i}", "email": f"ts{i}@example.com", "createdAt": "last tuesday"} for i in range(2)]
    orders = [{"orderId": f"bad-order-{i}", "createdAt": created_at(rng), "total": Decimal(1)} for i in range(3)]
    return users, orders
