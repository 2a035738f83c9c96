"""cutover's own bookkeeping tables, behind two small stores with one fixed layout.

- `CheckpointStore` (checkpoints table): stream positions and backfill cursors. pk/sk chosen by
  the caller, e.g. pk=`stream#<table>` sk=`<shardId>`, pk=`backfill#<table>#<N>` sk=`<segment>`.
- `ReportStore` (reports table): append-only history per kind (`backfill-run`, `reconcile`,
  `flip`) plus a `latest` copy so the flip interlock and `status` read one item. `latest` only
  moves forward in the record's ORDER (e.g. when a reconcile STARTED): a conditional write, so a
  run that started earlier but finished later can never hide a newer one (DESIGN.md, "Monotonic
  positions and reports"). A `control` item per kind is a compare-and-set register: the flip's
  is also the read-source flag itself (`readSource`, controlplane/flag.py).

Payloads are JSON documents in a `data` attribute: schemaless, readable with the AWS console.
"""

from __future__ import annotations

import json
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from botocore.exceptions import ClientError

from cutover.clock import utc_now
from cutover.codec import from_ddb, json_default, to_ddb

BACKFILL_RUN = "backfill-run"
RECONCILE = "reconcile"
RECONCILE_REPAIR = "reconcile-repair"  # full (unsampled) --repair runs: what clears a sync gap
FLIP = "flip"
LATEST = "latest"
CONTROL = "control"
ORDER = "orderKey"  # top-level attribute the conditional `latest` write compares


def is_conditional_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class _JsonTable:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    def _put(
        self,
        pk: str,
        sk: str,
        data: dict[str, Any],
        extra: dict[str, Any] | None = None,
        condition: str | None = None,
        values: dict[str, Any] | None = None,
    ) -> bool:
        """Write one item; with `condition`, False (nothing written) when DynamoDB refuses it."""
        item = {
            "pk": pk,
            "sk": sk,
            "data": json.dumps(data, sort_keys=True, default=json_default),
            "updatedAt": utc_now(),
        }
        kwargs: dict[str, Any] = {"TableName": self.table_name, "Item": to_ddb({**item, **(extra or {})})}
        if condition:
            kwargs["ConditionExpression"] = condition
            if values:
                kwargs["ExpressionAttributeValues"] = to_ddb(values)
        try:
            self._client.put_item(**kwargs)
        except ClientError as exc:
            if condition and is_conditional_failure(exc):
                return False
            raise
        return True

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
                out.append((item["sk"], json.loads(item["data"]) if "data" in item else {}))  # a raw control edit
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

    def put_if(
        self,
        pk: str,
        sk: str,
        data: dict[str, Any],
        extra: dict[str, Any],
        condition: str | None,
        values: dict[str, Any],
    ) -> bool:
        """A conditional put: `extra` top-level attributes are what `condition` compares. False if refused.
        `condition` None writes unconditionally (a lease stolen on the operator's word)."""
        return self._put(pk, sk, data, extra, condition, values)

    def put_if_revision(self, pk: str, sk: str, data: dict[str, Any], revision: int) -> bool:
        """Write `data` as revision `revision + 1` only if the stored revision is still `revision`
        (0: no item, or one written without a revision). False if another writer got there first."""
        condition = "attribute_not_exists(rev)" if revision == 0 else "rev = :rev"
        return self._put(pk, sk, data, {"rev": revision + 1}, condition, {":rev": revision} if revision else None)

    def get_with_time(self, pk: str, sk: str) -> tuple[dict[str, Any] | None, datetime | None]:
        """`get`, plus the backend's clock when it answered (None if it sent no Date header): a lease
        compares expiry times on one clock, the backend's, never the machines' own."""
        resp = self._client.get_item(TableName=self.table_name, Key=to_ddb({"pk": pk, "sk": sk}), ConsistentRead=True)
        data = json.loads(from_ddb(resp["Item"])["data"]) if "Item" in resp else None
        return data, date_header(resp)

    def delete(self, pk: str, sk: str) -> None:
        self._client.delete_item(TableName=self.table_name, Key=to_ddb({"pk": pk, "sk": sk}))

    def query(self, pk: str) -> dict[str, dict[str, Any]]:
        return dict(self._query(pk))


class ReportStore(_JsonTable):
    def record(self, kind: str, data: dict[str, Any], at: str | None = None, run_id: str | None = None) -> str:
        """Append `data` to `kind`'s history; make it the latest unless a later-ordered record is.

        `at` orders the record (default: now); for reconcile it is when the run STARTED. Ties keep
        the newer write. Returns the history sort key.
        """
        order = at or utc_now()
        sk = f"at#{order}" + (f"#{run_id}" if run_id else "")
        self._put(kind, sk, data)
        self._put(
            kind,
            LATEST,
            data,
            {ORDER: order},
            f"attribute_not_exists({ORDER}) OR {ORDER} <= :order",
            {":order": order},
        )
        return sk

    def latest(self, kind: str) -> dict[str, Any] | None:
        return self._get(kind, LATEST)

    def history(self, kind: str, limit: int = 20) -> list[dict[str, Any]]:
        rows = self._query(kind, newest_first=True, limit=limit + 2)
        return [d for sk, d in rows if sk not in (LATEST, CONTROL)][:limit]

    def control(self, kind: str) -> tuple[int, dict[str, Any] | None]:
        """The compare-and-set register for `kind`: (version, data); (0, None) if never written."""
        resp = self._client.get_item(
            TableName=self.table_name, Key=to_ddb({"pk": kind, "sk": CONTROL}), ConsistentRead=True
        )
        if "Item" not in resp:
            return 0, None
        item = from_ddb(resp["Item"])  # no `data`: moved by a raw update-item (runbooks/rollback.md)
        return int(item["version"]), json.loads(item["data"]) if "data" in item else None

    def compare_and_set(
        self, kind: str, expected_version: int, data: dict[str, Any], extra: dict[str, Any] | None = None
    ) -> bool:
        """Replace the register only if it is still at `expected_version`; False if someone else moved it.

        `extra` top-level attributes are written in the same conditional put (the flip's `readSource`).
        """
        if expected_version == 0:
            return self._put(kind, CONTROL, data, {**(extra or {}), "version": 1}, "attribute_not_exists(pk)")
        return self._put(
            kind,
            CONTROL,
            data,
            {**(extra or {}), "version": expected_version + 1},
            "version = :v",
            {":v": expected_version},
        )

    def server_time(self) -> datetime | None:
        """The backend's clock (HTTP Date header of a read), to compare other machines' timestamps with."""
        resp = self._client.get_item(TableName=self.table_name, Key=to_ddb({"pk": "clock", "sk": "clock"}))
        return date_header(resp)


def date_header(resp: dict[str, Any]) -> datetime | None:
    """The HTTP Date of a response (whole seconds), None if absent or unreadable: the backend's clock."""
    header = resp.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    try:
        return parsedate_to_datetime(header) if header else None
    except (TypeError, ValueError):
        return None
