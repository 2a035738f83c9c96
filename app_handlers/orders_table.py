"""pynamodb models of the legacy orders table (key `orderId`, GSI `userId-index`).

As for users: reads declare only the key (legacy types vary; the full item is in `raw_item`),
writes are TransactWriteItems in `writes` (conditional on the user).
"""

from __future__ import annotations

from functools import lru_cache

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from app_handlers.model_base import Connection, RawItemModel
from migrations.seed import USER_ID_INDEX


@lru_cache(maxsize=32)
def orders_model(table_name: str, conn: Connection) -> type[RawItemModel]:
    """The read model bound to one table name and connection (cached: one class per pair)."""

    class UserIdIndex(GlobalSecondaryIndex):
        Meta = type("Meta", (), {"index_name": USER_ID_INDEX, "projection": AllProjection()})
        userId = UnicodeAttribute(hash_key=True)

    class LegacyOrder(RawItemModel):
        Meta = conn.meta(table_name)
        orderId = UnicodeAttribute(hash_key=True)
        user_index = UserIdIndex()

    return LegacyOrder
