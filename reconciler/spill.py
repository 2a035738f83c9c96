"""Sorted runs on local disk and their k-way merge: a sort that holds at most one run in memory.

Each scan task collects small records (tuples that sort by v3 key) and, every `run_records` of them,
sorts the batch and writes it to a run file in the run's temp directory, in pickled chunks. The
merge streams every run at once with `heapq.merge`, holding one chunk per run; if there are more
than `MAX_FAN_IN` runs, groups of them are merged into bigger runs first, so the number of open
files stays bounded whatever the table size. The files are ours, written and read by this process
only (pickle is safe here), and are deleted with the temp directory.
"""

from __future__ import annotations

import heapq
import pickle
from collections.abc import Iterable, Iterator
from itertools import count
from pathlib import Path
from typing import Any

RUN_RECORDS = 10_000  # records sorted in memory at once per scan task (~4 MB of small tuples)
CHUNK = 1_000  # records per pickled chunk: what the merge holds per run
MAX_FAN_IN = 128  # runs merged at once (open files)

Record = tuple[Any, ...]


class RunWriter:
    """Buffers one scan task's records and spills them as sorted runs (not thread-safe: one per task)."""

    def __init__(self, directory: Path, name: str, run_records: int | None = None) -> None:
        self.directory, self.name, self.run_records = directory, name, run_records or RUN_RECORDS
        self.buffer: list[Record] = []
        self.paths: list[Path] = []
        self.records = 0

    def add(self, record: Record) -> None:
        self.buffer.append(record)
        if len(self.buffer) >= self.run_records:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        self.buffer.sort()
        path = self.directory / f"{self.name}-{len(self.paths):05d}.run"
        write_run(path, self.buffer)
        self.paths.append(path)
        self.records += len(self.buffer)
        self.buffer = []


def write_run(path: Path, records: Iterable[Record]) -> None:
    """Write already sorted records to `path`, CHUNK at a time."""
    with path.open("wb") as out:
        chunk: list[Record] = []
        for record in records:
            chunk.append(record)
            if len(chunk) == CHUNK:
                pickle.dump(chunk, out, protocol=pickle.HIGHEST_PROTOCOL)
                chunk = []
        if chunk:
            pickle.dump(chunk, out, protocol=pickle.HIGHEST_PROTOCOL)


def read_run(path: Path) -> Iterator[Record]:
    with path.open("rb") as src:
        while True:
            try:
                chunk = pickle.load(src)
            except EOFError:
                return
            yield from chunk


def merged(paths: list[Path], directory: Path, fan_in: int = MAX_FAN_IN) -> Iterator[Record]:
    """Every record of every run, in sorted order; intermediate merges keep open files <= `fan_in`."""
    fresh = count()
    while len(paths) > fan_in:
        grouped: list[Path] = []
        for start in range(0, len(paths), fan_in):
            group = paths[start : start + fan_in]
            path = directory / f"merge-{next(fresh):05d}.run"
            write_run(path, heapq.merge(*(read_run(p) for p in group)))
            for done in group:
                done.unlink()
            grouped.append(path)
        paths = grouped
    return heapq.merge(*(read_run(p) for p in paths))
