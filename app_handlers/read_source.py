"""The read-source flag's owner (the flip control item, `controlplane.flag`), read with a short cache.

A flip reaches every warm Lambda within `cache_seconds`, without a redeploy. Decoding (and failing
safe to legacy, loudly) is the one reader's, `app_handlers.routing.FlagReader`; this module only
says where the value lives and what a failure to read it means: no control item is "never
flipped" (legacy), an item without a value is "nothing stored" (`FlagInvalid`: an operator fixes
the flag), while DynamoDB unreachable or refusing the read is `FlagUnavailable` (`FlagUnreadable`:
the flag is not at fault; if the tables are unreachable too, the request then fails with
`BackendUnavailable` and a 503). Not Powertools' DynamoDBProvider: its `get` reads a table keyed
by one attribute, and the reports table has pk and sk.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from app_handlers import routing
from app_handlers.routing import FlagUnavailable
from app_handlers.telemetry import Telemetry
from controlplane.flag import KEY, READ_SOURCE, ReadSource, decode
from cutover.codec import from_ddb, to_ddb

__all__ = ["ControlItemFlagValues", "FlagReader", "ReadSource"]

UNREADABLE_FIX = "Check the endpoint/network and the function's dynamodb:GetItem permission on the reports table"


class ControlItemFlagValues:
    """The owner's value, read strongly consistently and cached `cache_seconds` (failures are not cached)."""

    def __init__(
        self, dynamodb_client: Any, table: str, cache_seconds: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client, self.table, self.cache_seconds, self._clock = dynamodb_client, table, cache_seconds, clock
        self.name = f"{table} {KEY['pk']}/{KEY['sk']} {READ_SOURCE}"
        self._cached: tuple[float, str | None, str | None] | None = None

    @property
    def phase(self) -> str | None:
        """The control item's version the cached value was read at (None: never read, or no item):
        what names a shadow phase for its evidence (`controlplane.shadow_evidence`)."""
        return None if self._cached is None else self._cached[2]

    def read(self) -> str | None:
        now = self._clock()
        if self._cached is not None and now - self._cached[0] < self.cache_seconds:
            return self._cached[1]
        try:
            resp = self._client.get_item(
                TableName=self.table,
                Key=to_ddb(KEY),
                ConsistentRead=True,
                ProjectionExpression=f"{READ_SOURCE}, #d, version",
                ExpressionAttributeNames={"#d": "data"},  # a reserved word
            )
        except (BotoCoreError, ClientError) as exc:
            raise FlagUnavailable(exc, UNREADABLE_FIX) from exc
        item = from_ddb(resp["Item"]) if "Item" in resp else None
        value = decode(item)
        version = None if item is None or item.get("version") is None else str(int(item["version"]))
        self._cached = (now, value, version)
        return value


class FlagReader(routing.FlagReader):
    """The API's flag: the one reader (`routing.FlagReader`) over the flip control item."""

    def __init__(self, dynamodb_client: Any, table: str, cache_seconds: int, telemetry: Telemetry) -> None:
        self.values = ControlItemFlagValues(dynamodb_client, table, cache_seconds)
        super().__init__(self.values, telemetry)
        self.table = table
        self.cache_seconds = cache_seconds
