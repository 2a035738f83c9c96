"""Seed data shaped like four years of legacy writes: mixed timestamp formats, messy emails, bad items,
and a few items holding every other DynamoDB type (binary, binary and number sets, a 38-digit number).

Written with `cutover.batch_write` (25 items per call, AWS's limit, every UnprocessedItems retried:
ignoring that field is how batch loaders silently lose writes).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary

from cutover.batch_write import MAX_BATCH_WRITE_ITEMS as BATCH
from cutover.batch_write import batch_write

__all__ = ["BATCH", "bad_items", "batch_write", "created_at", "messy_email", "order", "typed_items", "user"]
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


def typed_items(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Good items with the types the contract copies unchanged and the API must serve (docs/API.md):
    a binary attribute (B), a binary set (BS), binary nested in a map and a list, string and number
    sets, null, and a number with DynamoDB's full 38 significant digits."""
    users = [
        {
            "userId": "typed-user-0",
            "email": "typed0@example.com",
            "createdAt": created_at(rng),
            "avatar": Binary(bytes(range(0, 256, 17))),
        },
        {
            "userId": "typed-user-1",
            "email": "typed1@example.com",
            "createdAt": created_at(rng),
            "deviceKeys": {Binary(b"\xff\x00"), Binary(b"\x01"), Binary(b"key-2")},
            "tags": {"beta", "Admin", "early"},
            "scores": {Decimal("10"), Decimal("9.5"), Decimal("-3")},
        },
        {
            "userId": "typed-user-2",
            "email": "typed2@example.com",
            "createdAt": created_at(rng),
            "settings": {"theme": "dark", "icon": Binary(b"\x89PNG\r\n"), "history": [Binary(b"\x00"), None, True]},
            "balance": Decimal("12345678901234567890.123456789012345678"),
        },
    ]
    orders = [
        {
            "orderId": "typed-order-0",
            "userId": "typed-user-0",
            "createdAt": created_at(rng),
            "total": Decimal("19.99"),
            "receipt": Binary(b"%PDF-1.7\n"),
        },
        {
            "orderId": "typed-order-1",
            "userId": "typed-user-2",
            "createdAt": created_at(rng),
            "total": Decimal("5"),
            "lines": [{"sku": "a", "blob": Binary(b"\x00\x01")}],
        },
    ]
    return users, orders
