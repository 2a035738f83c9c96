"""The backend's own ceilings, measured in the same run as the bench they anchor.

- conditional PutItem from many threads (the cost floor of any version-guarded write, one
  request per item): the denominator for sync and backfill;
- unconditional 25-item BatchWriteItem from a few threads: for reference only, since a write
  with a condition cannot be batched.
Both write the same realistic v3-shaped items into a scratch table with v3's key schema.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from typing import Any

from bench.data import legacy_items, migration
from cutover.batch_write import write_serialised
from cutover.clients import Clients
from cutover.codec import to_ddb
from cutover.transform_errors import TransformError

_CONDITION = "attribute_not_exists(#pk) OR attribute_not_exists(#ver) OR #ver < :ver"


def scratch_table(clients: Clients, suffix: str) -> str:
    """A v3-shaped table (same keys and GSIs) used only by ceilings and baselines."""
    kwargs = clients.settings.names.v3_spec().create_table_kwargs()
    kwargs["TableName"] = f"{clients.settings.names.prefix}-scratch-{suffix}-{uuid.uuid4().hex[:4]}"
    clients.dynamodb.create_table(**kwargs)
    # dynalite (like AWS) creates tables in CREATING first; moto's are ACTIVE at once
    clients.dynamodb.get_waiter("table_exists").wait(
        TableName=kwargs["TableName"], WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    return kwargs["TableName"]


def _v3_templates(n: int = 200) -> list[dict[str, Any]]:
    out = []
    definition = migration()
    for source, item in legacy_items(n, seed=3):
        try:
            out.extend(definition.transform(source, item))
        except TransformError:
            pass
    return out


def _hammer(seconds: float, threads: int, job) -> tuple[int, float, float]:
    """Run `job(thread_index)` in `threads` threads for `seconds`; returns (items, elapsed, CPU seconds)."""
    stop = threading.Event()
    counts = [0] * threads
    errors: list[BaseException] = []

    def loop(idx: int) -> None:
        try:
            while not stop.is_set():
                counts[idx] += job(idx)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
            stop.set()

    pool = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(threads)]
    start, cpu = time.perf_counter(), time.process_time()
    for t in pool:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in pool:
        t.join()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    if errors:
        raise errors[0]
    return sum(counts), elapsed, cpu


def conditional_put_ceiling(clients: Clients, seconds: float = 5.0, threads: int = 32) -> dict[str, float]:
    """Items/s of single-item conditional PutItem (the v3 writer's condition) from `threads` threads."""
    table = scratch_table(clients, "cput")
    templates = _v3_templates()
    seq = itertools.count()
    hash_key, role = clients.settings.names.migration.target.hash_key.name, clients.settings.names.roles[0]

    def job(idx: int) -> int:
        client = clients.dynamodb  # boto3 clients are thread-safe; pool of 64 connections
        n = next(seq)
        item = {**templates[n % len(templates)], hash_key: f"c{idx}-{n}", "_version": "1", "_source": f"{role}#c{n}"}
        client.put_item(
            TableName=table,
            Item=to_ddb(item),
            ConditionExpression=_CONDITION,
            ExpressionAttributeNames={"#pk": hash_key, "#ver": "_version"},
            ExpressionAttributeValues={":ver": {"S": "1"}},
        )
        return 1

    items, elapsed, cpu = _hammer(seconds, threads, job)
    clients.dynamodb.delete_table(TableName=table)
    return {
        "items": items,
        "seconds": elapsed,
        "items_per_s": items / elapsed,
        "threads": threads,
        "cpu_seconds": cpu,
        "cpu_ms_per_item": 1000 * cpu / max(items, 1),
    }


def batch_write_ceiling(clients: Clients, seconds: float = 5.0, threads: int = 8) -> dict[str, float]:
    """Items/s of unconditional 25-item BatchWriteItem (reference: batching cannot carry a condition)."""
    table = scratch_table(clients, "bwi")
    templates = _v3_templates()
    seq = itertools.count()
    hash_key = clients.settings.names.migration.target.hash_key.name

    def job(idx: int) -> int:
        batch = []
        for _ in range(25):
            n = next(seq)
            batch.append(to_ddb({**templates[n % len(templates)], hash_key: f"b{idx}-{n}", "_version": "0"}))
        write_serialised(clients.dynamodb, table, batch)
        return 25

    items, elapsed, _ = _hammer(seconds, threads, job)
    clients.dynamodb.delete_table(TableName=table)
    return {"items": items, "seconds": elapsed, "items_per_s": items / elapsed, "threads": threads}
