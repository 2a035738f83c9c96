"""Which backfill a `cutover backfill` continues: the interrupted one, or a new one.

The obvious thing must work: with an interrupted run present, running the command again resumes
it; after a run completed, running it again starts a new run (the copy is idempotent: fills never
overwrite, so a new run re-scans and fills only what is missing, e.g. keys deleted from v3 since).
Each table's current run is recorded (pk `backfill#<source>`, sk `current`) so a run started with
another `--segments` is noticed instead of silently starting over beside the interrupted one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from backfill.checkpoint import SegmentCheckpoints
from cutover.clock import utc_now
from cutover.errors import ConfigError
from cutover.retry import call_with_retry
from cutover.state import CheckpointStore

NEW, RESUME, RESTART, AGAIN = "new", "resume", "restart", "new-after-complete"
DEFAULT_SEGMENTS = 8  # `--segments` left out, locally, remotely, or from a hand-started execution
# A remote run plans its segments with States.ArrayRange, which returns at most 1000 items
MAX_REMOTE_SEGMENTS = 1000


class InterruptedRunError(ConfigError):
    """An interrupted run exists with another segment count: resuming it needs the same count."""

    def __init__(self, source: str, segments: int, done: int) -> None:
        super().__init__(
            f"an interrupted backfill of {source} with --segments {segments} exists ({done}/{segments} segments "
            f"done): resume it with --segments {segments}, or discard its progress with --restart"
        )


@dataclass(frozen=True)
class RunPlan:
    source: str
    action: str
    run_id: str
    segments: int
    segments_done: int
    discarded: str = ""  # RESTART: the run whose progress is thrown away
    discarded_done: int = 0
    discarded_segments: int = 0

    def describe(self) -> str:
        done = f"{self.segments_done}/{self.segments} segments done"
        thrown = f"{self.discarded_done}/{self.discarded_segments} segments done"
        return {
            NEW: f"{self.source}: starting backfill run {self.run_id} ({self.segments} segments)",
            RESUME: f"{self.source}: resuming backfill run {self.run_id} ({done})",
            RESTART: f"{self.source}: --restart discards run {self.discarded or '(unrecorded)'} ({thrown}); "
            f"starting run {self.run_id} ({self.segments} segments)",
            AGAIN: f"{self.source}: the last run completed; starting new run {self.run_id} (re-scans everything, "
            "fills only what v3 lacks)",
        }[self.action]


def plan_run(store: CheckpointStore, source: str, segments: int, *, restart: bool, whole: bool) -> RunPlan:
    """Decide, record and prepare (reset cursors where needed) this table's run.

    `whole` is False for `--segment K`: one segment of a layout is never reset behind its run.

    Raises:
        InterruptedRunError: an interrupted run with another `--segments` exists and no --restart.
    """
    stored: dict[str, Any] | None = call_with_retry(lambda: store.get(f"backfill#{source}", "current"))
    current = stored or {}
    if whole and not restart and current.get("segments") not in (None, segments):
        other = int(current["segments"])
        other_done = _done(SegmentCheckpoints(store, source, other), other)
        if other_done < other:
            raise InterruptedRunError(source, other, other_done)
    layout = SegmentCheckpoints(store, source, segments)
    progress = [layout.load(seg) for seg in range(segments)]
    done = sum(p.done for p in progress)
    # A run recorded as current with this layout was started, even if it saved no page before it
    # stopped (Ctrl-C during the first pages): it is resumed, or discarded by --restart, by its id.
    recorded = bool(current.get("run_id")) and current.get("segments") == segments
    started = recorded or any(p.done or p.cursor or p.pages for p in progress)
    discarded, discarded_done, discarded_segments = "", 0, 0
    if restart:
        action = RESTART if started or current.get("run_id") else NEW
        discarded = str(current.get("run_id") or "")
        discarded_segments = int(current.get("segments") or segments)
        discarded_done = (
            done
            if discarded_segments == segments
            else _done(SegmentCheckpoints(store, source, discarded_segments), discarded_segments)
        )
    elif whole and done == segments:
        action = AGAIN
    else:
        action = RESUME if started else NEW
    if action in (RESTART, AGAIN) and whole:
        for seg in range(segments):
            layout.reset(seg)
        if action == RESTART and discarded_segments != segments:  # the discarded run had another layout
            other_layout = SegmentCheckpoints(store, source, discarded_segments)
            for seg in range(discarded_segments):
                other_layout.reset(seg)
    run_id = str(current.get("run_id") or "") if action == RESUME else ""
    run_id = run_id or uuid.uuid4().hex[:12]
    call_with_retry(
        lambda: store.put(f"backfill#{source}", "current", {"segments": segments, "run_id": run_id, "at": utc_now()})
    )
    return RunPlan(source, action, run_id, segments, done, discarded, discarded_done, discarded_segments)


def _done(layout: SegmentCheckpoints, segments: int) -> int:
    return sum(layout.load(seg).done for seg in range(segments))
