"""pynamodb models of the legacy users table (key `userId`, GSI `email-index`).

Reads declare only the key: legacy attributes have inconsistent types (a numeric `createdAt`, a
missing `email`), and a declared attribute of the wrong type would fail the whole read. The full
item is in `raw_item`. Writes are TransactWriteItems in `writes` (with the e-mail claim).
"""

from __future__ import annotations

from functools import lru_cache

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from app_handlers.model_base import Connection, RawItemModel
from migrations.seed import EMAIL_INDEX


@lru_cache(maxsize=32)
def users_model(table_name: str, conn: Connection) -> type[RawItemModel]:
    """The read model bound to one table name and connection (cached: one class per pair)."""

    class EmailIndex(GlobalSecondaryIndex):
        Meta = type("Meta", (), {"index_name": EMAIL_INDEX, "projection": AllProjection()})
        email = UnicodeAttribute(hash_key=True)

    class LegacyUser(RawItemModel):
        Meta = conn.meta(table_name)
        userId = UnicodeAttribute(hash_key=True)
        email_index = EmailIndex()

    return LegacyUser
