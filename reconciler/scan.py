"""The two scan directions of the reconciler, one segment at a time, one page in memory.

Direction 1 (legacy -> v3): transform each legacy item, BatchGetItem the expected v3 keys and
compare. Direction 2 (v3 -> legacy): every live v3 item's source must exist and map to this key.
Both only *suspect* here (cheap reads); `Checker` confirms with consistent reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from cutover.batch_get import MAX_BATCH_GET_KEYS, batch_get, chunks
from cutover.codec import from_ddb
from cutover.names import SOURCES
from cutover.scan import scan_pages
from reconciler.checker import Checker
from reconciler.compare import legacy_finding, sampled, source_of_v3, v3_finding, v3_key
from replicator.contract.errors import TransformError
from replicator.contract.transform import SOURCE_KEY, transform
from replicator.v3_writer import is_tombstone

Advance = Callable[[str, int], None]
V3_KEY_NAMES = ("userId", "recordType")


def check_legacy_segment(
    checker: Checker,
    source: str,
    segment: int,
    segments: int,
    sample: float | None,
    advance: Advance,
    page_size: int | None = None,
) -> None:
    client, tables = checker.client, checker.tables
    for page in scan_pages(client, tables.source_table(source), segment=segment, segments=segments, limit=page_size):
        good: list[tuple[str, dict[str, Any]]] = []
        for raw in page.items:
            item = from_ddb(raw)
            key = str(item[SOURCE_KEY[source]])
            if not sampled(source, key, sample):
                continue
            checker.sink.count("compared")
            try:
                good.append((key, transform(source, item)[0]))
            except TransformError as err:
                checker.bad_item(source, key, err, item)
        for chunk in chunks(good, MAX_BATCH_GET_KEYS):
            found = batch_get(client, tables.v3, V3_KEY_NAMES, [v3_key(e) for _, e in chunk])
            for key, expected in chunk:
                if legacy_finding(expected, found.get(v3_key(expected))) is not None:
                    checker.confirm_legacy(source, key)
        advance(f"legacy {source}", len(page.items))


LiveItem = tuple[dict[str, Any], tuple[str, str], tuple[str, str]]  # (item, v3 key, (source, source key))


def live_v3_pages(
    checker: Checker, segment: int, segments: int, page_size: int | None
) -> Iterator[tuple[int, list[LiveItem]]]:
    """Direction 2's read, shared by both algorithms: per v3 Scan page, its size and its live items
    that some source could have produced. An item no source could produce (a zombie key) is counted
    and handed to the checker here; tombstones are absent to readers and skipped."""
    for page in scan_pages(checker.client, checker.tables.v3, segment=segment, segments=segments, limit=page_size):
        live: list[LiveItem] = []
        for raw in page.items:
            item = from_ddb(raw)
            if is_tombstone(item):
                continue
            key = v3_key(item)
            origin = source_of_v3(key)
            if origin is None:
                checker.sink.count("v3_checked")
                checker.confirm_v3(key)
                continue
            live.append((item, key, origin))
        yield len(page.items), live


def check_v3_segment(
    checker: Checker, segment: int, segments: int, sample: float | None, advance: Advance, page_size: int | None = None
) -> None:
    client, tables = checker.client, checker.tables
    for size, live in live_v3_pages(checker, segment, segments, page_size):
        by_source: dict[str, list[tuple[tuple[str, str], str]]] = {s: [] for s in SOURCES}
        for _, key, origin in live:
            if sampled(origin[0], origin[1], sample):
                checker.sink.count("v3_checked")
                by_source[origin[0]].append((key, origin[1]))
        for source, entries in by_source.items():
            for chunk in chunks(entries, MAX_BATCH_GET_KEYS):
                found = batch_get(client, tables.source_table(source), (SOURCE_KEY[source],), [(k,) for _, k in chunk])
                for key, source_key in chunk:
                    if v3_finding(key, found.get((source_key,)), source) is not None:
                        checker.confirm_v3(key)
        advance("v3", size)
