"""Baseline copy scripts the backfill is compared with, and the simulated round-trip delay.

- `sequential_safe_copy`: what a careful one-off script does: Scan, then one conditional PutItem
  per item (attribute_not_exists), one at a time. Safe, and bound by a round trip per item.
- `naive_copy`: what a quick script does: sequential Scan with Limit 25, one unconditional
  BatchWriteItem per page, no retries (UnprocessedItems ignored: the silent-loss bug the issue
  names). Fast on moto because it batches without conditions; unsafe against live replication.
Both stop after `limit` scanned items so they can run on a subset; compare rates.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from cutover.clients import Clients
from cutover.codec import from_ddb, to_ddb
from cutover.migration import Migration
from cutover.settings import Settings
from cutover.transform_errors import TransformError


class DelayedClients(Clients):
    """Clients whose every request first sleeps `delay` s: an in-region AWS round trip (~5 ms).

    The sleep runs in botocore's `before-send` hook, in the calling thread, so it costs what
    network latency costs: wall time per request, no CPU; threads overlap it.
    """

    def __init__(self, settings: Settings, delay: float, config: Config | None = None) -> None:
        super().__init__(settings, config)
        self.delay = delay

    def client(self, service: str) -> Any:
        client = super().client(service)
        client.meta.events.register("before-send", self._sleep)
        return client

    def _sleep(self, **_: Any) -> None:
        time.sleep(self.delay)  # returning None lets botocore send the request as usual


def _scan_pages(client: Any, table: str, limit: int, page_limit: int | None):
    kwargs: dict[str, Any] = {"TableName": table}
    if page_limit:
        kwargs["Limit"] = page_limit
    seen = 0
    while seen < limit:
        resp = client.scan(**kwargs)
        items = resp.get("Items", [])[: limit - seen]
        seen += len(items)
        yield items
        if "LastEvaluatedKey" not in resp:
            return
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def _quota(migration: Migration, limit: int) -> dict[str, int]:
    """Split a subset over the tables as the seeded data is split: two users per order."""
    first, second = migration.roles[:2]
    return {first: limit - limit // 3, second: limit // 3}


def _v3(migration: Migration, source: str, raw: dict[str, Any]) -> list[dict[str, Any]]:
    item = from_ddb(raw)
    try:
        ref = f"{source}#{migration.source_key_text(source, item)}"
        return [{**v3, "_version": "0", "_source": ref} for v3 in migration.transform(source, item)]
    except TransformError:
        return []  # a script would log and move on; cutover quarantines


def sequential_safe_copy(clients: Clients, target: str, limit: int) -> dict[str, float]:
    """Scan each legacy table; conditional PutItem one item at a time. Returns counts and rate."""
    client, names = clients.dynamodb, clients.settings.names
    migration = names.migration
    scanned = written = 0
    start = time.perf_counter()
    for source, quota in _quota(migration, limit).items():
        for page in _scan_pages(client, names.source_table(source), quota, None):
            scanned += len(page)
            for raw in page:
                for item in _v3(migration, source, raw):
                    try:
                        client.put_item(
                            TableName=target,
                            Item=to_ddb(item),
                            ConditionExpression="attribute_not_exists(#pk)",
                            ExpressionAttributeNames={"#pk": migration.target.hash_key.name},
                        )
                        written += 1
                    except ClientError as exc:
                        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                            raise
    elapsed = time.perf_counter() - start
    return {"scanned": scanned, "written": written, "seconds": elapsed, "items_per_s": scanned / elapsed}


def naive_copy(clients: Clients, target: str, limit: int) -> dict[str, float]:
    """Scan Limit 25; one unconditional BatchWriteItem per page; UnprocessedItems ignored."""
    client, names = clients.dynamodb, clients.settings.names
    migration = names.migration
    scanned = written = dropped = 0
    start = time.perf_counter()
    for source, quota in _quota(migration, limit).items():
        for page in _scan_pages(client, names.source_table(source), quota, 25):
            scanned += len(page)
            puts = [{"PutRequest": {"Item": to_ddb(item)}} for raw in page for item in _v3(migration, source, raw)]
            if puts:
                resp = client.batch_write_item(RequestItems={target: puts})
                lost = len(resp.get("UnprocessedItems", {}).get(target, []))
                written, dropped = written + len(puts) - lost, dropped + lost
    elapsed = time.perf_counter() - start
    return {
        "scanned": scanned,
        "written": written,
        "dropped": dropped,
        "seconds": elapsed,
        "items_per_s": scanned / elapsed,
    }
