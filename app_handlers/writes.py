"""Writes go to legacy, the source of truth during the migration; v3 gets them via replication.

Each write is ONE TransactWriteItems, so its checks cannot be raced:
- `POST /users`: Put the user (only if the userId is free) + the e-mail claim (only if the
  normalised e-mail is unclaimed, or its claim is stale) + recent-write markers.
- `POST /orders`: ConditionCheck that the user exists + Put the order (only if the orderId is
  free) + a recent-write marker for the user's order list.
The markers (`ledger`: each names what a read returns for the write) let v3 mode serve what the
write stored while replication lags, until v3 is seen to hold it.
The index look-ups before a registration (legacy `email-index` as typed and normalised, v3's
`EmailLookupIndex`) only protect legacy data written elsewhere, which holds no claim: best effort.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Protocol

from app_handlers.errors import Conflict, RecordNotFound
from app_handlers.ledger import Ledger, Scope
from app_handlers.records import Record, present_legacy
from app_handlers.repository import normalise_email
from app_handlers.schemas import CreateOrder, CreateUser
from app_handlers.transact import Cancelled, transact
from cutover.clock import utc_now
from cutover.codec import to_ddb
from migrations.seed.transform import ORDERS, USERS

TAKEOVER_ATTEMPTS = 3


class LegacyReader(Protocol):
    def email_taken(self, email: str) -> bool: ...
    def get_user(self, user_id: str) -> Record | None: ...
    def raw_user(self, user_id: str) -> Record | None: ...


class Writes:
    def __init__(
        self,
        legacy: LegacyReader,
        client: Any,
        tables: tuple[str, str],
        ledger: Ledger,
        clock: Callable[[], str] = utc_now,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        normalised_lookup: Callable[[str], object] | None = None,
    ) -> None:
        self._legacy, self._client, self._ledger = legacy, client, ledger
        self._users_table, self._orders_table = tables
        self._clock, self._new_id = clock, new_id
        self._normalised_lookup = normalised_lookup

    def _email_taken(self, email: str) -> bool:
        """Best effort, for legacy users written elsewhere (they hold no claim): legacy's
        `email-index` as typed and normalised, then v3's normalised index. If v3 is unavailable
        the legacy check alone decides; the claim still protects every user the API created."""
        if self._legacy.email_taken(email):
            return True
        if self._normalised_lookup is None:
            return False
        try:
            return self._normalised_lookup(email) is not None
        except Exception:  # noqa: BLE001 - v3 must not block registrations
            return False

    def register_user(self, req: CreateUser) -> Record:
        """Raises Conflict if the (normalised) email or the requested userId is already taken."""
        email = normalise_email(req.email)
        taken = Conflict(f"a user with email {email!r} already exists: look it up with GET /users?email=...")
        if self._email_taken(email):
            raise taken
        user_id = req.userId or self._new_id()
        if req.userId and self._legacy.get_user(user_id) is not None:
            raise self._user_exists(user_id)
        item = {"userId": user_id, "email": email, "name": req.name, "createdAt": self._clock()}
        user = present_legacy(USERS, item) or {}
        stale_owner: str | None = None
        owner_check: list[dict[str, Any]] = []
        for _ in range(TAKEOVER_ATTEMPTS):
            items = [
                self._put(self._users_table, item, "userId"),
                self._ledger.claim_put(email, user_id, stale_owner),
                *self._ledger.recent_puts([(Scope.PROFILE, user_id), (Scope.EMAIL, email)], user),
                *owner_check,
            ]
            try:
                transact(self._client, items)
                return user
            except Cancelled as cancelled:
                if cancelled.failed(0):
                    raise self._user_exists(user_id) from cancelled
            stale_owner = self._ledger.claim_owner(email)
            owner_check = self._stale(stale_owner, email, user_id, taken)
        raise Conflict(f"email {email!r} is being registered concurrently: retry, or look it up with GET /users?email=")

    def _stale(self, owner: str | None, email: str, user_id: str, taken: Conflict) -> list[dict[str, Any]]:
        """The ConditionCheck that proves a claim stale as observed now, or raise `taken` if it is live.

        A claim is stale when its owner no longer exists at the source, or now has another e-mail
        (deleted or changed outside the API). Re-registering the same userId needs no check: the
        user Put's own condition (userId free) already proves the owner gone."""
        if owner is None or owner == user_id:
            return []
        raw = self._legacy.raw_user(owner)
        stored = raw.get("email") if raw else None
        if raw is not None and isinstance(stored, str) and normalise_email(stored) == email:
            raise taken
        check: dict[str, Any] = {"TableName": self._users_table, "Key": to_ddb({"userId": owner})}
        if raw is None:
            check["ConditionExpression"] = "attribute_not_exists(userId)"
        elif "email" not in raw:
            check["ConditionExpression"] = "attribute_exists(userId) AND attribute_not_exists(email)"
        else:
            check["ConditionExpression"] = "email = :seen"
            check["ExpressionAttributeValues"] = to_ddb({":seen": stored})
        return [{"ConditionCheck": check}]

    def place_order(self, req: CreateOrder) -> Record:
        """Raises RecordNotFound if the user does not exist in legacy when the order is written,
        Conflict if the orderId is taken."""
        order_id = req.orderId or self._new_id()
        item = {
            "orderId": order_id,
            "userId": req.userId,
            "amount": req.amount,
            "currency": req.currency,
            "createdAt": self._clock(),
        }
        user_exists = {
            "ConditionCheck": {
                "TableName": self._users_table,
                "Key": to_ddb({"userId": req.userId}),
                "ConditionExpression": "attribute_exists(userId)",
            }
        }
        order = present_legacy(ORDERS, item) or {}
        items = [user_exists, self._put(self._orders_table, item, "orderId")]
        marker = self._ledger.recent_puts([(Scope.ORDERS, req.userId)], order, id=order_id)
        try:
            transact(self._client, [*items, *marker])
        except Cancelled as cancelled:
            if cancelled.failed(0):
                raise RecordNotFound(
                    f"user {req.userId!r} not found: register it with POST /users first"
                ) from cancelled
            raise Conflict(f"order {order_id!r} already exists: omit orderId to have one generated") from cancelled
        return order

    @staticmethod
    def _put(table: str, item: Record, key: str) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": table,
                "Item": to_ddb(item),
                "ConditionExpression": "attribute_not_exists(#k)",
                "ExpressionAttributeNames": {"#k": key},
            }
        }

    @staticmethod
    def _user_exists(user_id: str) -> Conflict:
        return Conflict(f"user {user_id!r} already exists: omit userId to have one generated")
