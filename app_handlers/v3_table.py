"""pynamodb model of the v3 single table (`userId` + `recordType`, GSI `EmailLookupIndex` KEYS_ONLY).

Read-only from the app: v3 is written only by replication (`replicator.v3_writer`).
"""

from __future__ import annotations

from functools import lru_cache

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from app_handlers.model_base import Connection, RawItemModel
from migrations.seed import EMAIL_LOOKUP_INDEX


@lru_cache(maxsize=32)
def v3_model(table_name: str, conn: Connection) -> type[RawItemModel]:
    """The v3 model bound to one table name and connection (cached: one class per pair)."""

    class EmailLookupIndex(GlobalSecondaryIndex):
        Meta = type("Meta", (), {"index_name": EMAIL_LOOKUP_INDEX, "projection": KeysOnlyProjection()})
        email = UnicodeAttribute(hash_key=True)
        recordType = UnicodeAttribute(range_key=True)

    class V3Record(RawItemModel):
        Meta = conn.meta(table_name)
        userId = UnicodeAttribute(hash_key=True)
        recordType = UnicodeAttribute(range_key=True)
        email_index = EmailLookupIndex()

    return V3Record
