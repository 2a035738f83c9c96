"""Lambda adapter: one segment of one reconcile direction per invocation (a distributed map item).

Event: {"run_id": "...", "part": "<source role>"|"v3", "segment": K, "segments": N,
"sample": F|null, "repair": bool}. A source role's part runs `check_legacy_segment` (legacy -> v3)
and `v3` runs `check_v3_segment` (v3 -> legacy), exactly the functions a local run uses. After every
page the part's cursor, counts and that page's differences are stored (reconciler.partials); about
`SAFETY_SECONDS` before the timeout it returns {"done": false} and the state machine invokes it
again, resuming at the saved cursor. The environment is validated at the first invocation, when
the migration definition (CUTOVER_MIGRATION, else the seed) and its transform secrets are bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from cutover import transform_secrets
from cutover.clients import Clients
from cutover.coldstart import ColdStart
from cutover.environment import RECONCILE_SEGMENT_ENV
from cutover.errors import ConfigError
from cutover.migration_loader import load_migration
from cutover.tables import Tables
from reconciler.checker import Checker
from reconciler.partials import V3_PART, PartProgress, RunStore, max_segments, part_names
from reconciler.report import Difference, DifferenceSink
from reconciler.scan import check_legacy_segment, check_v3_segment

SAFETY_SECONDS = 60.0
# Items per Scan page. The deadline is checked between pages, so a page's work must fit in
# SAFETY_SECONDS: a 1 MB page holds up to ~10,000 small items, and in a table that differs
# throughout each is confirmed by consistent reads and, with --repair, a conditional write (about
# 4 calls of ~15 ms): minutes per page. 500 items bound a page to ~30 s of such work.
PAGE_ITEMS = 500
logger = Logger(child=True)


@dataclass(frozen=True)
class Runtime:
    tables: Tables
    dynamodb: Any
    logger: Logger


def _build(env: dict[str, str], clients: Clients) -> Runtime:
    tables = Tables.from_env(env)
    transform_secrets.bind_clients(tables.migration, clients)
    return Runtime(tables, clients.dynamodb, Logger(service=env["POWERTOOLS_SERVICE_NAME"]))


cold_start: ColdStart[Runtime] = ColdStart(RECONCILE_SEGMENT_ENV, _build)


@dataclass(frozen=True)
class PartEvent:
    run_id: str
    part: str
    segment: int
    segments: int
    sample: float | None
    repair: bool


def parse_event(event: dict[str, Any], roles: Sequence[str] | None = None) -> PartEvent:
    """Validate the map item at the edge (`part`: one of the migration's source `roles`, default the
    process's definition's, or v3); raises ConfigError naming the bad field."""
    try:
        run_id, part = str(event["run_id"]), str(event["part"])
        segment, segments = int(event["segment"]), int(event["segments"])
        sample = None if event.get("sample") is None else float(event["sample"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"reconcile segment event {event!r} needs run_id, part, segment and segments (integers), "
            f"and sample a fraction or null: {exc}"
        ) from exc
    roles = load_migration().roles if roles is None else roles
    known, most = part_names(roles), max_segments(roles)
    if part not in known:
        raise ConfigError(f"reconcile segment event part {part!r} is not one of {', '.join(known)}")
    if not 0 <= segment < segments <= most:
        raise ConfigError(f"reconcile segment {segment} of {segments}: need 0 <= segment < segments <= {most}")
    if sample is not None and not 0 < sample <= 1:
        raise ConfigError(f"reconcile segment event sample {sample} must be a fraction in (0, 1], or null")
    return PartEvent(run_id, part, segment, segments, sample, bool(event.get("repair")))


class _Paused(Exception):
    """Raised at a page boundary, after its checkpoint, when the invocation is out of time."""


class _Overtaken(Exception):
    """Raised when another invocation of the same part saved its checkpoint first: this one stops."""


class _PageSink(DifferenceSink):
    """The run's counts, plus the differences found since the last page boundary (one page's worth)."""

    def __init__(self) -> None:
        super().__init__(None)
        self.pending: list[Difference] = []

    def add(self, diff: Difference) -> None:
        super().add(diff)
        self.pending.append(diff)


class _ResumedScan:
    """The DynamoDB client, with the scan of `table` resumed at a saved cursor.

    `check_legacy_segment`/`check_v3_segment` page their segment from its start; this wrapper adds
    the cursor to the first Scan of the segment and remembers each page's LastEvaluatedKey, so a
    re-invoked Lambda continues where the last one checkpointed. Every other call passes through.
    """

    def __init__(self, client: Any, table: str, cursor: dict[str, Any] | None) -> None:
        self._client, self._table, self._cursor = client, table, cursor
        self.last_key: dict[str, Any] | None = cursor

    def scan(self, **kwargs: Any) -> Any:
        if kwargs.get("TableName") != self._table:
            return self._client.scan(**kwargs)
        if self._cursor and "ExclusiveStartKey" not in kwargs:
            kwargs = {**kwargs, "ExclusiveStartKey": self._cursor}
        resp = self._client.scan(**kwargs)
        self.last_key = resp.get("LastEvaluatedKey") or None
        return resp

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def run_part(tables: Tables, client: Any, item: PartEvent, remaining: Any) -> PartProgress:
    """Check one part's segment from its checkpoint until it is done or `remaining()` <= 0."""
    store = RunStore(client, tables.reports, item.run_id)
    progress = store.load_part(item.part, item.segment)
    if progress.done:
        return progress
    table = tables.v3 if item.part == V3_PART else tables.source_table(item.part)
    scan = _ResumedScan(client, table, progress.cursor)
    sink = _PageSink()
    checker = Checker(scan, tables, sink, item.repair)
    base = dict(progress.counts)

    def page_done(_label: str, n: int) -> None:
        progress.add_chunks(
            store.put_differences(item.part, item.segment, progress.next_chunk, [d.to_dict() for d in sink.pending])
        )
        sink.pending.clear()
        progress.cursor, progress.done = scan.last_key, scan.last_key is None
        progress.pages, progress.scanned = progress.pages + 1, progress.scanned + n
        progress.counts = {k: base[k] + sink.counts[k] for k in base}
        if not store.save_part(item.part, item.segment, progress):
            raise _Overtaken
        if not progress.done and remaining() <= 0:
            raise _Paused

    if remaining() > 0:
        try:
            if item.part == V3_PART:
                check_v3_segment(checker, item.segment, item.segments, item.sample, page_done, PAGE_ITEMS)
            else:
                check_legacy_segment(
                    checker, item.part, item.segment, item.segments, item.sample, page_done, PAGE_ITEMS
                )
        except _Paused:
            pass
        except _Overtaken:
            logger.warning(
                "another invocation of this part saved first; this one stops and keeps nothing of its page",
                extra={"run_id": item.run_id, "part": item.part, "segment": item.segment},
            )
            return store.load_part(item.part, item.segment)
    return progress


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    rt = cold_start.get()
    item = parse_event(event, rt.tables.roles)

    def remaining() -> float:
        return context.get_remaining_time_in_millis() / 1000.0 - SAFETY_SECONDS

    progress = run_part(rt.tables, rt.dynamodb, item, remaining)
    out = {
        "done": progress.done,
        "run_id": item.run_id,
        "part": item.part,
        "segment": item.segment,
        "scanned": progress.scanned,
        "counts": progress.counts,
    }
    rt.logger.info("reconcile segment", extra=out)
    return out
