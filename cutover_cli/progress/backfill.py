"""Progress display: a rich bar per table (items, items/s, ETA from DescribeTable's ItemCount).

Library calls (tests, the bench, Lambda) get `cutover.progress.NullProgress`; only the CLI shows bars.
DescribeTable's ItemCount is refreshed by DynamoDB about every six hours, so ETA is an estimate.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from cutover.progress import NullProgress, ProgressSink


class RichProgress:
    """Thread-safe: workers call `advance` from many threads."""

    def __init__(self, console: Console | None = None) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>8} items/s"),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()

    def add_table(self, label: str, total: int | None) -> None:
        self._tasks[label] = self._progress.add_task(label, total=total or None, rate="-")

    def advance(self, label: str, n: int) -> None:
        with self._lock:
            task_id = self._tasks[label]
            self._progress.advance(task_id, n)
            task = self._progress.tasks[task_id]
            speed = task.speed
            # the total is DescribeTable's estimate; a table written to meanwhile holds more
            total = task.total if task.total is None or task.completed <= task.total else task.completed
            self._progress.update(task_id, rate=f"{speed:,.0f}" if speed else "-", total=total)

    def say(self, line: str) -> None:
        """Print `line` on stderr above the bars (a plain echo would be overwritten by their next refresh)."""
        self._progress.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()


def make_progress(enabled: bool) -> ProgressSink:
    return RichProgress() if enabled else NullProgress()


def echo_err(line: str) -> None:
    import click

    click.echo(line, err=True)


def printer(progress: ProgressSink) -> Callable[[str], None]:
    """How to print a line on stderr while `progress` may be showing bars: through their console."""
    return progress.say if isinstance(progress, RichProgress) else echo_err
