"""cutover's own bookkeeping tables, behind two small stores with one fixed layout.

- `CheckpointStore` (checkpoints table): stream positions and backfill cursors. pk/sk chosen by
  the caller, e.g. pk=`stream#<table>` sk=`<shardId>`, pk=`backfill#<table>#<N>` sk=`<segment>`.
- `ReportStore` (reports table): append-only history per kind (`backfill-run`, `reconcile`,
  `flip`) plus a `latest` copy so the flip interlock and `status` read one item.

Payloads are JSON documents in a `data` attribute: schemaless, readable with the AWS console.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from cutover.clock import utc_now
from cutover.codec import from_ddb, to_ddb

BACKFILL_RUN = "backfill-run"
RECONCILE = "reconcile"
FLIP = "flip"
LATEST = "latest"


class _JsonTable:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    def _put(self, pk: str, sk: str, data: dict[str, Any]) -> None:
        self._client.put_item(
            TableName=self.table_name,
            Item=to_ddb(
                {"pk": pk, "sk": sk, "data": json.dumps(data, sort_keys=True, default=str), "updatedAt": utc_now()}
            ),
        )

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        resp = self._client.get_item(TableName=self.table_name, Key=to_ddb({"pk": pk, "sk": sk}), ConsistentRead=True)
        return json.loads(from_ddb(resp["Item"])["data"]) if "Item" in resp else None

    def _query(self, pk: str, newest_first: bool = False, limit: int | None = None) -> list[tuple[str, dict[str, Any]]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": True,
            "ScanIndexForward": not newest_first,
        }
        out: list[tuple[str, dict[str, Any]]] = []
        while True:
            resp = self._client.query(**kwargs)
            for raw in resp.get("Items", []):
                item = from_ddb(raw)
                out.append((item["sk"], json.loads(item["data"])))
                if limit is not None and len(out) >= limit:
                    return out
            if "LastEvaluatedKey" not in resp:
                return out
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


class CheckpointStore(_JsonTable):
    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self._get(pk, sk)

    def put(self, pk: str, sk: str, data: dict[str, Any]) -> None:
        self._put(pk, sk, data)

    def put_if_revision(self, pk: str, sk: str, data: dict[str, Any], revision: int) -> bool:
        """Write `data` as revision `revision + 1` only if the stored revision is still `revision`
        (0: no item, or one written without a revision). False if another writer got there first."""
        condition = "attribute_not_exists(#rev)" if revision == 0 else "#rev = :rev"
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item=to_ddb(
                    {
                        "pk": pk,
                        "sk": sk,
                        "data": json.dumps(data, sort_keys=True, default=str),
                        "updatedAt": utc_now(),
                        "rev": revision + 1,
                    }
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#rev": "rev"},
                **({"ExpressionAttributeValues": to_ddb({":rev": revision})} if revision else {}),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def delete(self, pk: str, sk: str) -> None:
        self._client.delete_item(TableName=self.table_name, Key=to_ddb({"pk": pk, "sk": sk}))

    def query(self, pk: str) -> dict[str, dict[str, Any]]:
        return dict(self._query(pk))


class ReportStore(_JsonTable):
    def record(self, kind: str, data: dict[str, Any], at: str | None = None) -> str:
        """Append `data` to `kind`'s history and make it the latest. Returns the record's sort key."""
        sk = f"at#{at or utc_now()}"
        self._put(kind, sk, data)
        self._put(kind, LATEST, data)
        return sk

    def latest(self, kind: str) -> dict[str, Any] | None:
        return self._get(kind, LATEST)

    def history(self, kind: str, limit: int = 20) -> list[dict[str, Any]]:
        return [d for sk, d in self._query(kind, newest_first=True, limit=limit + 1) if sk != LATEST][:limit]
