"""A live status line for sync on stderr (records/s and lag), silent when disabled or not a terminal."""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from rich.console import Console

from cutover_cli.render.numbers import count, ms, rate
from replicator.poller.sync_stats import SyncResult

_WINDOW_S = 5.0


class Progress:
    """`with Progress(enabled=...) as show: show(result, tables)` updates one status line."""

    def __init__(self, enabled: bool, once: bool, console: Console | None = None) -> None:
        self.enabled = enabled
        self.once = once
        self.console = console or Console(stderr=True)
        self._status: Any = None
        self._samples: deque[tuple[float, int]] = deque()
        self._shown = 0.0
        self._printed = 0.0
        self._last: tuple[SyncResult, list[Any]] | None = None

    def __enter__(self) -> Progress:
        if self.enabled and self.console.is_terminal:
            self._status = self.console.status("sync: starting")
            self._status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.stop()
        if self.enabled and self._last is not None:  # the final line matches the summary's counts
            self.console.print(self.line(*self._last), highlight=False)

    def rate(self, applied: int) -> str:
        """` (N/s)` over the last few seconds (not since start, so it shows the current pace); nothing
        until a second of samples exists."""
        now = time.monotonic()
        self._samples.append((now, applied))
        while len(self._samples) > 2 and now - self._samples[0][0] > _WINDOW_S:
            self._samples.popleft()
        t0, n0 = self._samples[0]
        return rate(applied - n0, now - t0)

    def line(self, result: SyncResult, tables: list[Any]) -> str:
        state = " ".join(f"{t.source}{'✓' if t.caught_up else '…'}" for t in tables)
        return (
            f"sync: {count(result.applied, 'record')}{self.rate(result.applied)}: {result.changed:,} changed, "
            f"{result.skipped:,} current, {result.quarantined:,} quarantined · lag p50 {ms(result.lag_ms(0.5))} · "
            f"{state}"
        )

    def __call__(self, result: SyncResult, tables: list[Any]) -> None:
        if not self.enabled:
            return
        self._last = (result, tables)
        now = time.monotonic()
        if now - self._shown < 0.25:
            return
        self._shown = now
        text = self.line(result, tables)
        if self._status is not None:
            self._status.update(text)
        elif now - self._printed >= 5.0:  # not a terminal (CI, pipes): a plain line every 5 s
            self._printed = now
            self.console.print(text, highlight=False)
