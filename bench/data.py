"""Realistic messy legacy items and fast parallel seeding.

Items look like four-year-old production data: three createdAt forms (ISO with and without
offset, epoch seconds, epoch milliseconds), e-mails with stray case and whitespace, nested maps,
lists, sets, booleans and numbers, and about 1% bad items that the transform must quarantine.
Generation is deterministic (a seeded RNG) so two runs bench the same data.

The items are the seed migration's (users and orders); every bench reads the roles, table names,
keys and transform from the definition (`migration()`: CUTOVER_MIGRATION, [tool.cutover], or the
seed), which must therefore be the seed's shape: `check_shape` says so in one line otherwise.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from cutover.batch_write import write_serialised
from cutover.clients import Clients
from cutover.codec import to_ddb
from cutover.errors import ConfigError
from cutover.migration import Migration
from cutover.transform_errors import TransformError
from migrations.seed.transform import ORDERS, USERS  # the shape of the items below (bench/ is not engine code)

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
    lines = [
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


def migration() -> Migration:
    """The definition the bench runs (read once per process), checked to fit the bench's items."""
    from cutover.migration_loader import load_migration

    return check_shape(load_migration())


def check_shape(definition: Migration) -> Migration:
    """The bench's items are users and orders: a definition without those roles cannot take them.

    Raises:
        ConfigError: naming the definition's roles and the fix.
    """
    if not {USERS, ORDERS} <= set(definition.roles):
        raise ConfigError(
            f"the bench's items are the seed migration's ({USERS}, {ORDERS}); migration {definition.name!r} has "
            f"{', '.join(definition.roles)}: run the bench with the seed definition (unset CUTOVER_MIGRATION)"
        )
    return definition


def is_good(source: str, item: dict[str, Any]) -> bool:
    try:
        migration().transform(source, item)
        return True
    except TransformError:
        return False


def seed(clients: Clients, rows: Iterable[tuple[str, dict[str, Any]]], threads: int = 8) -> int:
    """Write (table, plain item) rows with parallel 25-item BatchWriteItems. Returns rows written.

    Rows are grouped per table in order; a bounded hand-off keeps memory flat for 200,000 items.
    """
    import queue

    work: queue.Queue = queue.Queue(maxsize=threads * 4)
    errors: list[BaseException] = []
    written = [0]
    lock = threading.Lock()

    def worker() -> None:
        client = clients.client("dynamodb")
        while (job := work.get()) is not None:
            table, batch = job
            try:
                write_serialised(client, table, batch)
                with lock:
                    written[0] += len(batch)
            except BaseException as exc:  # noqa: BLE001 - surfaced after join
                errors.append(exc)

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    pending: dict[str, list[dict[str, Any]]] = {}
    for table, item in rows:
        batch = pending.setdefault(table, [])
        batch.append(to_ddb(item))
        if len(batch) == 25:
            work.put((table, pending.pop(table)))
    for table, batch in pending.items():
        work.put((table, batch))
    for _ in pool:
        work.put(None)
    for t in pool:
        t.join()
    if errors:
        raise errors[0]
    return written[0]


def legacy_rows(names: Any, count: int, seed_value: int = 7, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for source, item in legacy_items(count, seed_value, prefix):
        yield names.source_table(source), item


def v3_rows(names: Any, count: int, seed_value: int = 7, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """What a finished backfill leaves in v3 for the same items (good ones only)."""
    from replicator.contract.versioning import BACKFILL_VERSION

    definition = migration()
    for source, item in legacy_items(count, seed_value, prefix):
        try:
            out = definition.transform(source, item)
        except TransformError:
            continue
        ref = f"{source}#{definition.source_key_text(source, item)}"
        for v3 in out:
            yield names.v3_table, {**v3, "_version": BACKFILL_VERSION, "_source": ref}
