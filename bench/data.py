"""The bench's data: realistic messy legacy items and fast parallel seeding.

The items are the seed migration's samples (`migrations/seed/samples.py`: four years of messy
production data, about 1% bad); every bench reads the roles, table names, keys and transform
from the definition (`migration()`: CUTOVER_MIGRATION, [tool.cutover], or the seed), which must
therefore have the samples' roles: `check_shape` says so in one line otherwise.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

from cutover.batch_write import write_serialised
from cutover.clients import Clients
from cutover.codec import to_ddb
from cutover.errors import ConfigError
from cutover.migration import Migration
from cutover.transform_errors import TransformError
from migrations.seed import samples  # the seed's sample items (bench/ measures the seed migration)
from migrations.seed.samples import BAD_EVERY, legacy_items

__all__ = ["BAD_EVERY", "check_shape", "is_good", "legacy_items", "legacy_rows", "migration", "seed", "v3_rows"]


def migration() -> Migration:
    """The definition the bench runs (read once per process), checked to fit the bench's items."""
    from cutover.migration_loader import load_migration

    return check_shape(load_migration())


def check_shape(definition: Migration) -> Migration:
    """The bench's items are the seed's samples: a definition without their roles cannot take them.

    Raises:
        ConfigError: naming the definition's roles and the fix.
    """
    if not set(samples.ROLES) <= set(definition.roles):
        raise ConfigError(
            f"the bench's items are the seed migration's ({', '.join(samples.ROLES)}); migration "
            f"{definition.name!r} has {', '.join(definition.roles)}: run the bench with the seed definition "
            "(unset CUTOVER_MIGRATION)"
        )
    return definition


def is_good(source: str, item: dict[str, Any]) -> bool:
    try:
        migration().transform(source, item)
        return True
    except TransformError:
        return False


def seed(clients: Clients, rows: Iterable[tuple[str, dict[str, Any]]], threads: int = 8) -> int:
    """Write (table, plain item) rows with parallel 25-item BatchWriteItems. Returns rows written.

    Rows are grouped per table in order; a bounded hand-off keeps memory flat for 200,000 items.
    """
    import queue

    work: queue.Queue = queue.Queue(maxsize=threads * 4)
    errors: list[BaseException] = []
    written = [0]
    lock = threading.Lock()

    def worker() -> None:
        client = clients.client("dynamodb")
        while (job := work.get()) is not None:
            table, batch = job
            try:
                write_serialised(client, table, batch)
                with lock:
                    written[0] += len(batch)
            except BaseException as exc:  # noqa: BLE001 - surfaced after join
                errors.append(exc)

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    pending: dict[str, list[dict[str, Any]]] = {}
    for table, item in rows:
        batch = pending.setdefault(table, [])
        batch.append(to_ddb(item))
        if len(batch) == 25:
            work.put((table, pending.pop(table)))
    for table, batch in pending.items():
        work.put((table, batch))
    for _ in pool:
        work.put(None)
    for t in pool:
        t.join()
    if errors:
        raise errors[0]
    return written[0]


def legacy_rows(names: Any, count: int, seed_value: int = 7, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for source, item in legacy_items(count, seed_value, prefix):
        yield names.source_table(source), item


def v3_rows(names: Any, count: int, seed_value: int = 7, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """What a finished backfill leaves in v3 for the same items (good ones only)."""
    from replicator.contract.versioning import BACKFILL_VERSION

    definition = migration()
    for source, item in legacy_items(count, seed_value, prefix):
        try:
            out = definition.transform(source, item)
        except TransformError:
            continue
        ref = f"{source}#{definition.source_key_text(source, item)}"
        for v3 in out:
            yield names.v3_table, {**v3, "_version": BACKFILL_VERSION, "_source": ref}
