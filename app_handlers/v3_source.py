"""The v3 single table, read-only: profile at (userId, PROFILE), orders at (userId, ORDER#id)."""

from __future__ import annotations

from app_handlers.model_base import Connection
from app_handlers.records import Record, present_v3
from app_handlers.repository import normalise_email
from app_handlers.v3_table import v3_model
from migrations.seed.transform import ORDER_PREFIX, PROFILE


class V3Source:
    name = "v3"

    def __init__(self, v3_table: str, conn: Connection) -> None:
        self._model = v3_model(v3_table, conn)

    def get_user(self, user_id: str) -> Record | None:
        try:
            return present_v3(self._model.get(user_id, PROFILE, consistent_read=True).raw_item)
        except self._model.DoesNotExist:
            return None

    def find_by_email(self, email: str) -> Record | None:
        """EmailLookupIndex is KEYS_ONLY: find the keys, then read the profiles (lowest userId wins).

        A GSI is eventually consistent (it may still list a profile whose e-mail has changed since),
        so the e-mail is checked again on the strongly consistent profile read."""
        wanted = normalise_email(email)
        keys = self._model.email_index.query(wanted, self._model.recordType == PROFILE)
        for user_id in sorted(k.userId for k in keys):
            user = self.get_user(user_id)
            if user is not None and user.get("email") == wanted:
                return user
        return None

    def list_orders(self, user_id: str) -> list[Record]:
        items = self._model.query(user_id, self._model.recordType.startswith(ORDER_PREFIX), consistent_read=True)
        orders = (present_v3(i.raw_item) for i in items)
        return [o for o in orders if o is not None]
