"""Progress of a remote run, read from the same checkpoints its segment Lambdas write.

The state machine's own status says nothing about how far a segment got; the checkpoints do:
backfill's per-segment cursors (backfill/checkpoint.py) and reconcile's part checkpoints
(reconciler/partials.py). Each poll reads them with one Query per layout and advances the bars
by what changed since the last poll (the counts are cumulative, so a resumed run starts where
the last one stopped).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from backfill.checkpoint import SegmentProgress, checkpoint_pk
from cutover.progress import ProgressSink, item_count
from cutover.retry import call_with_retry
from cutover.state import CheckpointStore
from cutover.tables import Tables
from reconciler.partials import V3_PART, RunStore


def reconcile_labels(tables: Tables) -> dict[str, str]:
    """A bar per part of a reconcile run: each source role's legacy table (definition order), then v3."""
    return {**{role: f"legacy {role}" for role in tables.roles}, V3_PART: "v3"}


class _Bars:
    def __init__(self, bars: ProgressSink) -> None:
        self.bars = bars
        self.shown: dict[str, int] = {}

    def add(self, label: str, total: int | None) -> None:
        self.bars.add_table(label, total)
        self.shown[label] = 0

    def show(self, label: str, done: int) -> None:
        if done > self.shown[label]:
            self.bars.advance(label, done - self.shown[label])
            self.shown[label] = done


class BackfillWatch:
    """Items scanned and segments done per table, from the shared segment checkpoints."""

    def __init__(self, client: Any, tables: Tables, sources: Sequence[str], segments: int, bars: ProgressSink) -> None:
        self._store = CheckpointStore(client, tables.checkpoints)
        self._sources, self._segments = tuple(sources), segments
        self._bars = _Bars(bars)
        for source in self._sources:
            self._bars.add(source, item_count(client, tables.source_table(source)))
        self.scanned: dict[str, int] = dict.fromkeys(self._sources, 0)
        self.segments_done: dict[str, int] = dict.fromkeys(self._sources, 0)
        self.progress: dict[str, list[SegmentProgress]] = {s: [] for s in self._sources}

    def __call__(self) -> None:
        for source in self._sources:
            docs = call_with_retry(partial(self._store.query, checkpoint_pk(source, self._segments)))
            progress = [SegmentProgress.from_doc(doc) for doc in docs.values()]
            self.progress[source] = progress
            self.scanned[source] = sum(p.counts["scanned"] for p in progress)
            self.segments_done[source] = sum(1 for p in progress if p.done)
            self._bars.show(source, self.scanned[source])


class ReconcileWatch:
    """Items checked per direction (each source role's legacy table, then v3), from the run's part checkpoints."""

    def __init__(self, client: Any, tables: Tables, run_id: str, bars: ProgressSink) -> None:
        self._store = RunStore(client, tables.reports, run_id)
        self._bars = _Bars(bars)
        self._labels = reconcile_labels(tables)
        for part, label in self._labels.items():
            table = tables.v3 if part == V3_PART else tables.source_table(part)
            self._bars.add(label, item_count(client, table))
        self.scanned: dict[str, int] = dict.fromkeys(self._labels, 0)

    def __call__(self) -> None:
        totals = dict.fromkeys(self._labels, 0)
        for (part, _segment), progress in self._store.parts().items():
            totals[part] = totals.get(part, 0) + progress.scanned
        self.scanned = totals
        for part, label in self._labels.items():
            self._bars.show(label, totals[part])
