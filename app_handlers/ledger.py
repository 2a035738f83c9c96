"""The API's own table (`Names.api_table`, generic `pk`/`sk`): e-mail claims and recent-write markers.

Both kinds of item are written in the SAME TransactWriteItems as the legacy write they belong to
(`writes`), so they can never disagree with it, whatever the replication lag:

- claim  `pk=email#<normalised e-mail>`, `sk=claim`, `userId`: at most one per normalised e-mail,
  so two registrations of " Ann@X.com" and "ann@x.com" cannot both commit. A claim whose owner
  was since deleted (or re-addressed) at the source is stale and may be taken over, conditionally
  on the exact state observed (`writes.Writes.register_user`).
- marker `pk=recent#<scope>#<key>`, `sk=recent`, `token`: "the API wrote this (profile | orders |
  email) and v3 may not reflect it yet". In v3 mode a read that meets a marker is answered by
  legacy (read-through) until v3 gives the same answer; then the marker is removed, conditionally
  on its token so a newer write's marker survives. Markers expire through DynamoDB TTL
  (`expiresAt`) after `RECENT_TTL_SECONDS`, longer than any replication lag the flip gate allows.

This table is not a legacy table, so nothing here streams into the replicator.
"""

from __future__ import annotations

import enum
import time
import uuid
from typing import Any

from botocore.exceptions import ClientError

from cutover.codec import from_ddb, to_ddb
from cutover.names import API_TTL_ATTRIBUTE

CLAIM_SK = "claim"
RECENT_SK = "recent"
RECENT_TTL_SECONDS = 7 * 24 * 3600


class Scope(str, enum.Enum):
    PROFILE = "profile"  # a user's profile (key: userId)
    ORDERS = "orders"  # a user's order list (key: userId)
    EMAIL = "email"  # who an e-mail belongs to (key: normalised e-mail)


Mark = tuple[Scope, str]


def claim_key(email: str) -> dict[str, str]:
    return {"pk": f"email#{email}", "sk": CLAIM_SK}


def recent_key(scope: Scope, key: str) -> dict[str, str]:
    return {"pk": f"recent#{scope.value}#{key}", "sk": RECENT_SK}


class Ledger:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    # --- transaction parts (TransactItems entries) ----------------------------------------------
    def claim_put(self, email: str, user_id: str, stale_owner: str | None) -> dict[str, Any]:
        """Claim `email` for `user_id`: only if unclaimed, or (taking over) still held by `stale_owner`."""
        put: dict[str, Any] = {"TableName": self.table_name, "Item": to_ddb({**claim_key(email), "userId": user_id})}
        if stale_owner is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "userId = :owner"
            put["ExpressionAttributeValues"] = to_ddb({":owner": stale_owner})
        return {"Put": put}

    def recent_puts(self, marks: list[Mark]) -> list[dict[str, Any]]:
        token, expires = uuid.uuid4().hex, int(time.time()) + RECENT_TTL_SECONDS
        return [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": to_ddb({**recent_key(s, k), "token": token, API_TTL_ATTRIBUTE: expires}),
                }
            }
            for s, k in marks
        ]

    # --- reads and clean-up ----------------------------------------------------------------------
    def claim_owner(self, email: str) -> str | None:
        item = self._client.get_item(TableName=self.table_name, Key=to_ddb(claim_key(email)), ConsistentRead=True)
        return from_ddb(item["Item"]).get("userId") if "Item" in item else None

    def recent(self, marks: list[Mark]) -> dict[Mark, str]:
        """The markers that exist among `marks` (strongly consistent), with their tokens."""
        found: dict[Mark, str] = {}
        for mark in dict.fromkeys(marks):
            item = self._client.get_item(TableName=self.table_name, Key=to_ddb(recent_key(*mark)), ConsistentRead=True)
            if "Item" in item:
                found[mark] = str(from_ddb(item["Item"]).get("token"))
        return found

    def clear(self, mark: Mark, token: str) -> None:
        """Remove a marker unless a newer write replaced it (a failed condition is the expected race)."""
        try:
            self._client.delete_item(
                TableName=self.table_name,
                Key=to_ddb(recent_key(*mark)),
                ConditionExpression="#t = :t",
                ExpressionAttributeNames={"#t": "token"},
                ExpressionAttributeValues=to_ddb({":t": token}),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
