"""Lambda adapter: one backfill segment per invocation (a Step Functions distributed map item).

Event: {"table": "<source role>", "segment": K, "segments": N, "run_id": "...", "rate": R (optional items/s)}.
Stops about `SAFETY_SECONDS` before the function's timeout, inside a page if need be (the cursor
saved is then the last item it wrote: a 1 MB page of small items under a rate limit takes minutes),
and returns {"done": false, ...}; the state machine invokes it again and it
continues from the checkpoint. Returns {"done": true, ...} once the segment is finished.
The environment is validated at cold start (first invocation), never at import time; the
migration definition (CUTOVER_MIGRATION, else the seed) and its transform secrets are bound then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from backfill.lease import REMOTE_TTL, BackfillLease, Holder
from backfill.segment import run_segment_on
from cutover import transform_secrets
from cutover.clients import Clients
from cutover.coldstart import ColdStart
from cutover.environment import BACKFILL_SEGMENT_ENV
from cutover.errors import ConfigError
from cutover.rate import TokenBucket
from cutover.state import CheckpointStore
from cutover.tables import Tables

SAFETY_SECONDS = 60.0


@dataclass(frozen=True)
class SegmentRuntime:
    tables: Tables
    dynamodb: Any
    write_threads: int
    logger: Logger


def _build(env: dict[str, str], clients: Clients) -> SegmentRuntime:
    tables = Tables.from_env(env)
    transform_secrets.bind_clients(tables.migration, clients)
    return SegmentRuntime(
        tables, clients.dynamodb, int(env["WRITE_CONCURRENCY"]), Logger(service=env["POWERTOOLS_SERVICE_NAME"])
    )


cold_start: ColdStart[SegmentRuntime] = ColdStart(BACKFILL_SEGMENT_ENV, _build)


@dataclass(frozen=True)
class SegmentEvent:
    table: str
    segment: int
    segments: int
    run_id: str
    rate: float | None  # items/s for this segment (the state machine input's per-segment rate)


def parse_event(event: dict[str, Any]) -> SegmentEvent:
    """Validate the map item at the edge; raises ConfigError naming the bad field (a `table` that is no
    source role of the migration is refused by `run_segment_on`, naming the roles there are)."""
    try:
        table, segment, segments = str(event["table"]), int(event["segment"]), int(event["segments"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"backfill segment event {event!r} needs table, segment and segments (integers): {exc}"
        ) from exc
    rate = event.get("rate")
    if rate is not None:
        try:
            rate = float(rate)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"backfill segment event rate {rate!r} is not a number of items/s") from exc
        if rate <= 0:
            raise ConfigError(f"backfill segment event rate {rate!r} must be positive (items/s), or left out")
    return SegmentEvent(table, segment, segments, str(event.get("run_id") or "lambda"), rate)


def hold_lease(rt: SegmentRuntime, run_id: str) -> None:
    """Renew the run's backfill lease (take it if absent or lapsed) at every invocation, so a run the
    CLI detached from stays protected; a run whose lease another run holds fails here, before it
    scans anything (LeaseHeldError names the holder)."""
    holder = Holder(run_id, run_id, "AWS, segment Lambda", "")
    BackfillLease(CheckpointStore(rt.dynamodb, rt.tables.checkpoints), holder, REMOTE_TTL).acquire()


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    rt = cold_start.get()
    item = parse_event(event)

    def remaining() -> float:
        return context.get_remaining_time_in_millis() / 1000.0 - SAFETY_SECONDS

    hold_lease(rt, item.run_id)
    result = run_segment_on(
        rt.tables,
        rt.dynamodb,
        table=item.table,
        segment=item.segment,
        segments=item.segments,
        run_id=item.run_id,
        deadline=remaining,
        write_threads=rt.write_threads,
        # the same token bucket as `cutover backfill --rate`: per invocation, so N parallel segments
        # add up to at most N x rate (the state machine's input says how to choose it)
        rate_limiter=TokenBucket(item.rate) if item.rate else None,
    )
    rt.logger.info("backfill segment", extra=result.to_dict())
    return {
        "done": result.done,
        "table": item.table,
        "segment": item.segment,
        "segments": item.segments,
        "run_id": item.run_id,
        "rate": item.rate,
        "counts": result.counts,
    }
