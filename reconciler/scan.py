"""The two scan directions of the reconciler, one segment at a time, one page in memory.

Direction 1 (legacy -> v3): transform each legacy item, BatchGetItem every target item it becomes
(a fan-out's each) and compare. Direction 2 (v3 -> legacy): every live v3 item's source, named
by its `_source` bookkeeping, must exist and produce exactly this key. Both only *suspect* here
(cheap reads); `Checker` confirms with consistent reads.

Key names and types are the migration definition's: target keys by `target.key_names`, each
source's items by its own key names (composite keys included), parsed from the key text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from cutover.batch_get import MAX_BATCH_GET_KEYS, batch_get, chunks
from cutover.codec import from_ddb
from cutover.migration import canonical
from cutover.scan import scan_pages
from cutover.transform_errors import TransformError
from reconciler.checker import Checker
from reconciler.compare import SourceRef, legacy_finding, sampled, source_of_v3, v3_finding
from replicator.v3_writer import TargetKey, is_tombstone

Advance = Callable[[str, int], None]


def v3_key_names(checker: Checker) -> tuple[str, ...]:
    """The target table's key attributes (hash, range), from the migration definition."""
    return checker.migration.target.key_names


def check_legacy_segment(
    checker: Checker,
    source: str,
    segment: int,
    segments: int,
    sample: float | None,
    advance: Advance,
    page_size: int | None = None,
) -> None:
    client, tables, migration = checker.client, checker.tables, checker.migration
    key_names, target_of = v3_key_names(checker), checker.keys.target_of
    for page in scan_pages(client, tables.source_table(source), segment=segment, segments=segments, limit=page_size):
        good: list[tuple[str, list[dict[str, Any]]]] = []
        for raw in page.items:
            item = from_ddb(raw)
            key = checker.keys.source_text(source, item)
            if not sampled(source, key, sample):
                continue
            checker.sink.count("compared")
            try:
                expected = migration.transform(source, item)
            except TransformError as err:
                checker.bad_item(source, key, err, item)
                continue
            if not expected:
                checker.sink.count("not_migrated")
                continue
            good.append((key, expected))
        # a batch holds at most MAX_BATCH_GET_KEYS target keys; one source item's fan-out stays in one batch
        for batch in _batches(good):
            found = batch_get(client, tables.v3, key_names, [target_of(e) for _, items in batch for e in items])
            seen = {canonical(k): v for k, v in found.items()}
            for key, items in batch:
                ref = f"{source}#{key}"
                if any(legacy_finding(e, seen.get(canonical(target_of(e))), ref) for e in items):
                    checker.confirm_legacy(source, key)
        advance(f"legacy {source}", len(page.items))


def _batches(good: list[tuple[str, list[dict[str, Any]]]]) -> Iterator[list[tuple[str, list[dict[str, Any]]]]]:
    batch: list[tuple[str, list[dict[str, Any]]]] = []
    size = 0
    for entry in good:
        if batch and size + len(entry[1]) > MAX_BATCH_GET_KEYS:
            yield batch
            batch, size = [], 0
        batch.append(entry)
        size += len(entry[1])
    if batch:
        yield batch


LiveItem = tuple[dict[str, Any], TargetKey, SourceRef]  # (item, v3 key, (source role, source key text))


def live_v3_pages(
    checker: Checker, segment: int, segments: int, page_size: int | None
) -> Iterator[tuple[int, list[LiveItem]]]:
    """Direction 2's read, shared by both algorithms: per v3 Scan page, its size and its live items
    whose `_source` names a source of the migration. An item that names none (a zombie key, an item
    no path of cutover wrote) is counted and handed to the checker here; tombstones are absent to
    readers and skipped."""
    target_of = checker.keys.target_of
    for page in scan_pages(checker.client, checker.tables.v3, segment=segment, segments=segments, limit=page_size):
        live: list[LiveItem] = []
        for raw in page.items:
            item = from_ddb(raw)
            if is_tombstone(item):
                continue
            key = target_of(item)
            origin = source_of_v3(item, checker.migration)
            if origin is None:
                checker.sink.count("v3_checked")
                checker.confirm_v3(key)
                continue
            live.append((item, key, origin))
        yield len(page.items), live


def check_v3_segment(
    checker: Checker, segment: int, segments: int, sample: float | None, advance: Advance, page_size: int | None = None
) -> None:
    client, tables, migration = checker.client, checker.tables, checker.migration
    for size, live in live_v3_pages(checker, segment, segments, page_size):
        by_source: dict[str, list[tuple[TargetKey, tuple[Any, ...]]]] = {role: [] for role in tables.roles}
        for _, key, (role, source_key) in live:
            if sampled(role, source_key, sample):
                checker.sink.count("v3_checked")
                names = migration.source(role).key_names
                parsed = migration.parse_source_key(role, source_key)  # source_of_v3 checked it parses
                by_source[role].append((key, tuple(parsed[n] for n in names)))
        for role, entries in by_source.items():
            names = migration.source(role).key_names
            for chunk in chunks(entries, MAX_BATCH_GET_KEYS):
                found = batch_get(client, tables.source_table(role), names, [k for _, k in chunk])
                seen = {canonical(k): v for k, v in found.items()}
                for key, values in chunk:
                    if v3_finding(key, seen.get(canonical(values)), role, migration) is not None:
                        checker.confirm_v3(key)
        advance("v3", size)
