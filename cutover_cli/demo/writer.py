"""The seed demo's background 'legacy application': keeps updating, deleting and moving legacy
users and orders while sync runs (`generic.GeneratedWriter` is any other definition's)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from cutover.codec import to_ddb
from cutover_cli.demo.seed import created_at, messy_email, order, user


class PacedWriter(threading.Thread):
    """Legacy writes at a steady rate from weighted operations, until stopped; what one demo writer
    (the seed's `LegacyWriter`, any definition's `GeneratedWriter`) shares. A failure is kept and
    re-raised by `stop`, so the step that started the thread reports it."""

    def __init__(self, rng: random.Random, per_second: float) -> None:
        super().__init__(name="legacy-writer", daemon=True)
        self._rng = rng
        self._interval = 1.0 / per_second
        self.stop_event = threading.Event()
        self.counts: Counter[str] = Counter()
        self.error: BaseException | None = None

    def operations(self) -> list[tuple[Callable[[], None], int]]:
        """(operation, weight) pairs: one is drawn per tick."""
        raise NotImplementedError

    def run(self) -> None:
        funcs, weights = zip(*self.operations(), strict=True)
        try:
            next_at = time.monotonic()
            while not self.stop_event.is_set():
                self._rng.choices(funcs, weights)[0]()
                next_at += self._interval
                self.stop_event.wait(max(0.0, next_at - time.monotonic()))
        except BaseException as exc:  # noqa: BLE001 - reported by the step that started the thread
            self.error = exc

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=30)
        if self.error is not None:
            raise self.error


class LegacyWriter(PacedWriter):
    """Single-item writes at a steady rate, like the legacy app. `counts` says what it did."""

    def __init__(
        self,
        dynamodb: Any,
        users_table: str,
        orders_table: str,
        users: dict[str, dict[str, Any]],
        orders: dict[str, dict[str, Any]],
        rng: random.Random,
        per_second: float,
    ) -> None:
        super().__init__(rng, per_second)
        self._ddb = dynamodb
        self._users_table, self._orders_table = users_table, orders_table
        self.users, self.orders = users, orders
        self._next_id = 90_000

    def operations(self) -> list[tuple[Callable[[], None], int]]:
        return [
            (self.update_user, 35),
            (self.update_order, 30),
            (self.move_order, 10),
            (self.delete_user, 7),
            (self.delete_order, 8),
            (self.insert, 9),
            (self.break_user, 1),
        ]

    def summary(self) -> list[tuple[str, str]]:
        """The live step's rows: how many writes, and of which kind."""
        counts = self.counts
        return [
            ("legacy writes during the run", f"{sum(counts.values()):,}"),
            (
                "updates / moves / deletes / inserts / broken",
                f"{counts['update_user'] + counts['update_order']} / {counts['move_order']} / "
                f"{counts['delete_user'] + counts['delete_order']} / {counts['insert']} / {counts['break_user']}",
            ),
        ]

    def _put(self, table: str, item: dict[str, Any]) -> None:
        self._ddb.put_item(TableName=table, Item=to_ddb(item))

    def _pick(self, items: dict[str, dict[str, Any]]) -> str | None:
        return self._rng.choice(list(items)) if items else None

    def update_user(self) -> None:
        if (uid := self._pick(self.users)) is not None:
            item = {
                **self.users[uid],
                "email": messy_email(self._rng, f"{uid}.v{self.counts['update_user']}"),
                "plan": self._rng.choice(("free", "pro")),
            }
            self._put(self._users_table, item)
            self.users[uid] = item
            self.counts["update_user"] += 1

    def update_order(self) -> None:
        if (oid := self._pick(self.orders)) is not None:
            item = {**self.orders[oid], "status": self._rng.choice(("paid", "shipped", "refunded"))}
            self._put(self._orders_table, item)
            self.orders[oid] = item
            self.counts["update_order"] += 1

    def move_order(self) -> None:
        """Give an order to another user: its v3 key changes, the old key must be tombstoned."""
        oid, uid = self._pick(self.orders), self._pick(self.users)
        if oid is not None and uid is not None:
            item = {**self.orders[oid], "userId": uid}
            self._put(self._orders_table, item)
            self.orders[oid] = item
            self.counts["move_order"] += 1

    def delete_user(self) -> None:
        if (uid := self._pick(self.users)) is not None:
            self._ddb.delete_item(TableName=self._users_table, Key=to_ddb({"userId": uid}))
            del self.users[uid]
            self.counts["delete_user"] += 1

    def delete_order(self) -> None:
        if (oid := self._pick(self.orders)) is not None:
            self._ddb.delete_item(TableName=self._orders_table, Key=to_ddb({"orderId": oid}))
            del self.orders[oid]
            self.counts["delete_order"] += 1

    def insert(self) -> None:
        self._next_id += 1
        if self._rng.random() < 0.5 or not self.users:
            item = user(self._rng, self._next_id)
            self._put(self._users_table, item)
            self.users[item["userId"]] = item
        else:
            item = order(self._rng, self._next_id, list(self.users))
            self._put(self._orders_table, item)
            self.orders[item["orderId"]] = item
        self.counts["insert"] += 1

    def break_user(self) -> None:
        """A legacy bug writes an unparseable createdAt: v3 must drop the old copy and quarantine it."""
        if (uid := self._pick(self.users)) is not None:
            item = {**self.users[uid], "createdAt": f"{created_at(self._rng)}??"}
            self._put(self._users_table, item)
            del self.users[uid]  # no further updates: it stays quarantined
            self.counts["break_user"] += 1
