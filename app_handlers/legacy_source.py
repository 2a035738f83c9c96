"""The legacy users and orders tables: the source of truth for writes and the `legacy` reads."""

from __future__ import annotations

from app_handlers.model_base import Connection
from app_handlers.orders_table import orders_model
from app_handlers.records import Record, present_legacy
from app_handlers.repository import normalise_email
from app_handlers.users_table import users_model
from migrations.seed.transform import ORDERS, USERS


class LegacySource:
    name = "legacy"

    def __init__(self, users_table: str, orders_table: str, conn: Connection) -> None:
        self._users = users_model(users_table, conn)
        self._orders = orders_model(orders_table, conn)

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

    # --- for the write path -------------------------------------------------------------------
    def email_taken(self, email: str) -> bool:
        """True if legacy's `email-index` finds this email as typed or normalised (best effort:
        an untidy legacy e-mail written elsewhere, " Ann@X.com", is found by neither form)."""
        return self.find_by_email(email) is not None

    def raw_user(self, user_id: str) -> Record | None:
        """The stored item as it is (strongly consistent), to condition a write on exactly this state."""
        try:
            return self._users.get(user_id, consistent_read=True).raw_item
        except self._users.DoesNotExist:
            return None
