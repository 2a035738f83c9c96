"""Which sources a complete backfill covered: the gate's backfill evidence, per source.

`cutover backfill --table users` records a run that is complete for the tables it ran, so the
latest run alone says nothing about `orders`. For each source role of the migration, the latest
run that ran it must have finished all of its segments; the evidence's `finished_at` is the
latest of those completions, since a reconcile vouches for the copied history only if it started
after every source's copy ended.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

HISTORY_RUNS = 200  # backfill runs read back; a source not run in them counts as not backfilled


def coverage(history: Iterable[dict[str, Any]], roles: Sequence[str]) -> dict[str, Any] | None:
    """The combined backfill evidence of `history` (BACKFILL_RUN records, newest first) for `roles`.

    None when no backfill is recorded at all; else {"complete", "finished_at", "uncovered",
    "runs"}: `uncovered` the roles whose latest run did not finish them (or that none ran)."""
    latest: dict[str, dict[str, Any]] = {}
    seen = False
    for run in history:
        seen = True
        for role in run.get("tables") or {}:
            latest.setdefault(role, run)
    if not seen:
        return None
    uncovered = [r for r in roles if r not in latest or not _finished(latest[r], r)]
    finished = [latest[r].get("finished_at") for r in roles if r in latest]
    return {
        "complete": not uncovered,
        "finished_at": None if uncovered else max(finished, key=_moment, default=None),
        "uncovered": uncovered,
        "runs": {r: latest[r].get("run_id") for r in roles if r in latest},
    }


def _moment(text: Any) -> datetime:
    """An ISO time to order by (an unreadable one first, so it never wins)."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _finished(run: dict[str, Any], role: str) -> bool:
    table = (run.get("tables") or {}).get(role) or {}
    return int(table.get("segments_done", 0)) >= int(run.get("segments", 0) or 0) > 0
