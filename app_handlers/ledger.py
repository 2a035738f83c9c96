"""The API's own table (`Names.api_table`, generic `pk`/`sk`): e-mail claims and recent-write markers.

Both kinds of item are written in the SAME TransactWriteItems as the legacy write they belong to
(`writes`), so they can never disagree with it, whatever the replication lag:

- claim  `pk=email#<normalised e-mail>`, `sk=claim`, `userId`: at most one per normalised e-mail,
  so two registrations of " Ann@X.com" and "ann@x.com" cannot both commit. A claim whose owner
  was since deleted (or re-addressed) at the source is stale and may be taken over, conditionally
  on the exact state observed (`writes.Writes.register_user`).
- marker `pk=recent#<scope>#<key>`, `sk=recent` (or `recent#<id>` for one element of a list:
  an order), `token`, `written`: "the API wrote this (profile | orders | email), a read returns
  `written` for it, and v3 may not hold it yet". This is the `routing.MarkStore` the read routing
  uses: in v3 mode a read that meets a marker is answered by legacy (read-through) until v3's
  answer contains `written` (evidence that v3 holds the write; legacy agreeing with v3 is none:
  legacy's own indexes lag); then the marker is removed, conditionally on its token so a newer
  write's marker survives. An order list has one marker per order placed, so each order waits for
  its own evidence (replication may deliver a later order first). Markers expire through DynamoDB
  TTL (`expiresAt`) after `RECENT_TTL_SECONDS`, longer than any replication lag the flip gate
  allows; a marker from before `written` existed is never evidenced and waits for its TTL.

This table is not a legacy table, so nothing here streams into the replicator.
"""

from __future__ import annotations

import enum
import time
import uuid
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from app_handlers.routing import Marker
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


def recent_pk(mark: Mark) -> str:
    scope, key = mark
    return f"recent#{scope.value}#{key}"


def recent_key(mark: Mark, id: str = "") -> dict[str, str]:
    """One write's marker: `id` "" for a record (a later write replaces it), else the element's id."""
    return {"pk": recent_pk(mark), "sk": f"{RECENT_SK}#{id}" if id else RECENT_SK}


def _marker_id(sk: str) -> str:
    return sk[len(RECENT_SK) + 1 :] if sk.startswith(f"{RECENT_SK}#") else ""


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

    def recent_puts(self, marks: list[Mark], written: Any, id: str = "") -> list[dict[str, Any]]:
        """Markers of one write under each of `marks`: a read of any of them returns `written` for it."""
        token, expires = uuid.uuid4().hex, int(time.time()) + RECENT_TTL_SECONDS
        return [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": to_ddb(
                        {**recent_key(mark, id), "token": token, "written": written, API_TTL_ATTRIBUTE: expires}
                    ),
                }
            }
            for mark in marks
        ]

    # --- reads and clean-up ----------------------------------------------------------------------
    def claim_owner(self, email: str) -> str | None:
        item = self._client.get_item(TableName=self.table_name, Key=to_ddb(claim_key(email)), ConsistentRead=True)
        return from_ddb(item["Item"]).get("userId") if "Item" in item else None

    def marked(self, mark: Mark) -> Sequence[Marker]:
        """The markers of `mark` (strongly consistent): `routing.MarkStore`."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_ddb({":pk": recent_pk(mark)}),
            "ConsistentRead": True,
        }
        found: list[Marker] = []
        while True:
            page = self._client.query(**query)
            for raw in page.get("Items", []):
                item = from_ddb(raw)
                found.append(Marker(_marker_id(str(item["sk"])), str(item.get("token")), item.get("written")))
            if "LastEvaluatedKey" not in page:
                return found
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def clear(self, mark: Mark, marker: Marker) -> None:
        """Remove a marker unless a newer write replaced it (a failed condition is the expected race)."""
        try:
            self._client.delete_item(
                TableName=self.table_name,
                Key=to_ddb(recent_key(mark, marker.id)),
                ConditionExpression="#t = :t",
                ExpressionAttributeNames={"#t": "token"},
                ExpressionAttributeValues=to_ddb({":t": marker.token}),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
