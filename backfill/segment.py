"""One segment of the backfill: the unit of work, resumable from its checkpoint.

The same function runs in the CLI's worker pool and, one segment per invocation, in the
segment Lambda (`backfill.segment_lambda`) under a Step Functions distributed map.

Per page: transform every item with the migration definition (bad ones go to quarantine, items
it does not migrate are counted `not_migrated`), write every target item it becomes with
`V3Writer.fill` (each conditional on its key being absent, so the stream's newer item or a
tombstone always wins) from a thread pool, wait for every write, and only then checkpoint the cursor.

Counts: `scanned`, `quarantined` and `not_migrated` count source items; `written`,
`already_filled` and `skipped_newer` count target items (a fan-out writes several per source item).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from backfill.checkpoint import COUNT_NAMES, SegmentCheckpoints, SegmentProgress
from cutover.clients import Clients
from cutover.codec import from_ddb, to_ddb
from cutover.errors import InvalidSegmentError
from cutover.migration import Item, MigrationError
from cutover.rate import TokenBucket
from cutover.retry import call_with_retry
from cutover.scan import scan_pages
from cutover.settings import Settings
from cutover.state import CheckpointStore
from cutover.tables import Tables, check_source
from cutover.transform_errors import TransformError
from replicator.contract.versioning import BACKFILL_VERSION
from replicator.quarantine import QuarantineStore, entry_for
from replicator.v3_writer import Outcome, V3Writer, is_rejected, rejected_error

Deadline = Callable[[], float]  # remaining seconds; <= 0: stop after the current item's writes land
PageCallback = Callable[[str, dict[str, int]], None]


@dataclass(frozen=True)
class SegmentResult:
    table: str
    segment: int
    segments: int
    done: bool
    counts: dict[str, int]  # cumulative over every run of this segment since its last restart
    pages: int
    already_done: bool = False  # was finished before this call: nothing scanned

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "segment": self.segment,
            "segments": self.segments,
            "done": self.done,
            "counts": dict(self.counts),
            "pages": self.pages,
            "already_done": self.already_done,
        }


def run_segment(settings: Settings, clients: Clients, **options: Any) -> SegmentResult:
    """Backfill one segment of source role `table` until it is finished or `deadline()` <= 0.

    Takes `run_segment_on`'s keyword options; resolves the names from `settings`.
    """
    return run_segment_on(Tables.from_names(settings.names), clients.dynamodb, **options)


def run_segment_on(
    tables: Tables,
    client: Any,
    *,
    table: str,
    segment: int,
    segments: int,
    run_id: str,
    deadline: Deadline | None = None,
    write_threads: int = 32,
    rate_limiter: TokenBucket | None = None,
    page_size: int | None = None,
    executor: ThreadPoolExecutor | None = None,
    on_page: PageCallback | None = None,
) -> SegmentResult:
    """`run_segment` with resolved table names and one DynamoDB client (what the Lambda has)."""
    check_source(table, tables.roles)
    if segments < 1 or not 0 <= segment < segments:
        raise InvalidSegmentError(segment, segments)
    checkpoints = SegmentCheckpoints(CheckpointStore(client, tables.checkpoints), table, segments)
    progress = checkpoints.load(segment)
    if progress.done:
        return _result(table, segment, segments, progress, already_done=True)
    if not progress.run_id:
        progress.run_id = run_id
    filler = _PageFiller(tables, client, table, rate_limiter)
    pool = executor or ThreadPoolExecutor(
        max_workers=max(1, write_threads), thread_name_prefix=f"fill-{table}-{segment}"
    )

    def pages_from(start: SegmentProgress) -> tuple[SegmentProgress, bool]:
        """Scan from `start`, saving each page. Returns (progress, lost): `lost` means another process
        advanced the checkpoint first, and `progress` is then the stored state to continue from."""
        current = start
        scan = scan_pages(
            client,
            tables.source_table(table),
            segment=segment,
            segments=segments,
            start_key=current.cursor,
            limit=page_size,
        )
        for page in scan:
            counts, taken = filler.fill(page.items, pool, partial(_expired, deadline))  # every write finished here
            cut_short = taken < len(page.items)  # out of time inside the page: resume after its last item taken
            cursor = filler.key_of(page.items[taken - 1]) if cut_short else page.next_key
            step = replace(current, cursor=cursor, done=not cut_short and cursor is None, pages=current.pages + 1)
            step.counts = {name: current.counts[name] + counts.get(name, 0) for name in current.counts}
            if on_page is not None:
                on_page(table, counts)
            if not checkpoints.save(segment, step):
                return checkpoints.load(segment), True
            current = step
            if current.done or cut_short or _expired(deadline):
                break
        return current, False

    try:
        while not progress.done and not _expired(deadline):
            progress, lost = pages_from(progress)
            if not lost:
                break
    finally:
        if executor is None:
            pool.shutdown(wait=True)
    return _result(table, segment, segments, progress)


def _expired(deadline: Deadline | None) -> bool:
    return deadline is not None and deadline() <= 0


def _result(
    table: str, segment: int, segments: int, progress: SegmentProgress, already_done: bool = False
) -> SegmentResult:
    return SegmentResult(table, segment, segments, progress.done, dict(progress.counts), progress.pages, already_done)


class _PageFiller:
    """Transform and write one page; returns the page's counts once every write is done."""

    def __init__(self, tables: Tables, client: Any, source: str, rate_limiter: TokenBucket | None) -> None:
        self.source = source
        self.migration = tables.migration
        self.table_name = tables.source_table(source)
        self.key_names = tables.migration.source(source).key_names
        self.client = client
        self.v3_table = tables.v3
        self.writer = V3Writer(client, tables.v3, tables.migration)
        self.quarantine = QuarantineStore(client, tables.quarantine, tables.migration)
        self.rate_limiter = rate_limiter

    def key_of(self, raw: dict[str, Any]) -> dict[str, Any]:
        """A scanned item's primary key (DynamoDB JSON): what a Scan's LastEvaluatedKey would be had
        the page ended at it, so a cursor saved mid-page resumes right after it."""
        return {name: raw[name] for name in self.key_names}

    def fill(
        self, raw_items: list[dict[str, Any]], pool: ThreadPoolExecutor, out_of_time: Callable[[], bool] | None = None
    ) -> tuple[dict[str, int], int]:
        """Transform and write the page's items in order until `out_of_time()` (checked before each
        item but the first, so every call makes progress); returns the counts and how many items
        it took, once every write of those is done.

        Why inside the page: a page is up to 1 MB (thousands of small items) and the rate limit
        throttles per item, so a page can take far longer than the Lambda's safety margin."""
        counts = dict.fromkeys(COUNT_NAMES, 0)
        futures: list[tuple[str, Future[str]]] = []
        migration, source = self.migration, self.source
        taken = 0
        try:
            for raw in raw_items:
                if taken and out_of_time is not None and out_of_time():
                    break
                taken += 1
                counts["scanned"] += 1
                if self.rate_limiter is not None:
                    self.rate_limiter.acquire()
                item = from_ddb(raw)
                try:
                    v3_items = migration.transform(source, item)
                except TransformError as err:
                    entry = entry_for(err, self.table_name, item, BACKFILL_VERSION, "backfill")
                    if call_with_retry(partial(self.quarantine.put, entry)):
                        self._unless_fixed_meanwhile(entry.key)
                    counts["quarantined"] += 1
                    continue
                if not v3_items:
                    counts["not_migrated"] += 1  # the definition migrates nothing of it: counted, never lost
                    continue
                ref = f"{source}#{migration.source_key_text(source, item)}"
                futures += [(ref, pool.submit(self._write, v3_item, ref, item)) for v3_item in v3_items]
        except BaseException:
            wait([f for _, f in futures])  # let in-flight writes land before the error leaves this page uncheckpointed
            raise
        rejected: set[str] = set()
        for ref, future in futures:  # waits for all; re-raises a non-transient error
            outcome = future.result()
            if outcome == "quarantined":
                rejected.add(ref)  # one source item, however many of its target items were refused
            else:
                counts[outcome] += 1
        counts["quarantined"] += len(rejected)
        return counts, taken

    def _unless_fixed_meanwhile(self, key: str) -> None:
        """The Scan page may be stale: if the item is good (or gone) now, its fix may have been replicated
        before this entry existed, so nothing else would resolve it. Resolve exactly what was written."""
        try:
            source_key = self.migration.parse_source_key(self.source, key)
        except MigrationError:
            return  # not a key of this source (the item had none): the entry stands
        resp = call_with_retry(
            lambda: self.client.get_item(TableName=self.table_name, Key=to_ddb(source_key), ConsistentRead=True)
        )
        if "Item" in resp:
            try:
                self.migration.transform(self.source, from_ddb(resp["Item"]))
            except TransformError:
                return  # still bad: the entry stands
        call_with_retry(lambda: self.quarantine.resolve(self.source, key, BACKFILL_VERSION, BACKFILL_VERSION))

    def _write(self, item: Item, source_ref: str, legacy: Item) -> str:
        """Fill one item; name what happened: written, already_filled, skipped_newer or quarantined.

        An item DynamoDB refuses for good (over 400 KB, ...) is quarantined (`write_rejected`), so the
        page still completes and is checkpointed: raising would fail every re-run on the same item.
        """
        try:
            outcome = call_with_retry(lambda: self.writer.fill(item, source_ref))
        except ClientError as exc:
            if not is_rejected(exc):
                raise
            self._quarantine_rejected(exc, source_ref, legacy)
            return "quarantined"
        if outcome is Outcome.WRITTEN:
            return "written"
        return "already_filled" if self._holder_version(item) == BACKFILL_VERSION else "skipped_newer"

    def _quarantine_rejected(self, exc: ClientError, source_ref: str, legacy: Item) -> None:
        key = source_ref.partition("#")[2]
        error = rejected_error(self.source, key, exc, "nothing was written")
        entry = entry_for(error, self.table_name, legacy, BACKFILL_VERSION, "backfill")
        call_with_retry(partial(self.quarantine.put, entry))  # a raw item too large to keep is stored as its key

    def _holder_version(self, item: Item) -> str | None:
        """The `_version` at a key fill was refused: "0" means an earlier (crashed or restarted) backfill
        page filled it, anything else means replication or a repair wrote it. Only read on a skip."""
        key = dict(zip(self.writer.key_names, self.migration.target_key(item), strict=True))
        resp = call_with_retry(
            lambda: self.client.get_item(
                TableName=self.v3_table,
                Key=to_ddb(key),
                ProjectionExpression="#v",
                ExpressionAttributeNames={"#v": "_version"},
            )
        )
        return resp.get("Item", {}).get("_version", {}).get("S")
