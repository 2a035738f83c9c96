"""The legacy users and orders tables: the source of truth for writes and the `legacy` reads."""

from __future__ import annotations

from decimal import Decimal

from app_handlers.model_base import Connection
from app_handlers.orders_table import new_order_model, orders_model
from app_handlers.records import Record, present_legacy
from app_handlers.repository import normalise_email
from app_handlers.users_table import new_user_model, users_model
from cutover.names import ORDERS, USERS


class LegacySource:
    name = "legacy"

    def __init__(self, users_table: str, orders_table: str, conn: Connection) -> None:
        self._users = users_model(users_table, conn)
        self._orders = orders_model(orders_table, conn)
        self._new_user = new_user_model(users_table, conn)
        self._new_order = new_order_model(orders_table, conn)

    # --- reads (UserRepository) ---------------------------------------------------------------
    def get_user(self, user_id: str) -> Record | None:
        try:
            return present_legacy(USERS, self._users.get(user_id, consistent_read=True).raw_item)
        except self._users.DoesNotExist:
            return None

    def find_by_email(self, email: str) -> Record | None:
        """Exact match first (legacy emails are stored as typed), then the normalised form."""
        for candidate in dict.fromkeys((email, normalise_email(email))):
            if not candidate:
                continue
            hits = sorted((u.raw_item for u in self._users.email_index.query(candidate)), key=lambda i: i["userId"])
            if hits:
                return present_legacy(USERS, hits[0])
        return None

    def list_orders(self, user_id: str) -> list[Record]:
        orders = [present_legacy(ORDERS, o.raw_item) for o in self._orders.user_index.query(user_id)]
        return sorted((o for o in orders if o is not None), key=lambda o: str(o.get("orderId")))

    # --- writes --------------------------------------------------------------------------------
    def email_taken(self, email: str) -> bool:
        """True if any legacy user has this email, compared the contract's way (normalised)."""
        return self.find_by_email(email) is not None

    def put_user(self, user_id: str, email: str, name: str, created_at: str) -> Record:
        self._new_user(userId=user_id, email=email, name=name, createdAt=created_at).save(
            condition=self._new_user.userId.does_not_exist()
        )
        return self.get_user(user_id) or {}

    def put_order(self, order_id: str, user_id: str, amount: Decimal, currency: str, created_at: str) -> Record:
        self._new_order(orderId=order_id, userId=user_id, amount=amount, currency=currency, createdAt=created_at).save(
            condition=self._new_order.orderId.does_not_exist()
        )
        try:
            return present_legacy(ORDERS, self._orders.get(order_id, consistent_read=True).raw_item) or {}
        except self._orders.DoesNotExist:
            return {}
