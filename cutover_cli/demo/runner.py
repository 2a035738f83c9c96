"""Run the demo's steps in order, timing each; the summary table is printed even if a step fails."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from cutover.errors import CutoverError
from cutover_cli.demo.context import DemoContext
from cutover_cli.demo.steps import Step


class DemoStepFailed(CutoverError):
    """A demo step raised; the message names the step. Keeps the cause's exit code (1 = finding)."""

    def __init__(self, step: str, cause: BaseException) -> None:
        self.exit_code = getattr(cause, "exit_code", 2)
        detail = str(cause) if isinstance(cause, CutoverError) else f"{type(cause).__name__}: {cause}"
        super().__init__(f"demo step '{step}' failed: {detail}")


def run_steps(ctx: DemoContext, steps: Sequence[Step]) -> float:
    """Run every step; returns the total seconds. Cleans up (stops the embedded server) in any case."""
    started = time.monotonic()
    try:
        for step in steps:
            name = step.__name__.replace("_", " ")
            ctx.say(f"▶ {name}: {(step.__doc__ or '').strip().splitlines()[0] if step.__doc__ else ''}".rstrip(": "))
            t0 = time.monotonic()
            try:
                step(ctx)
            except Exception as exc:
                raise DemoStepFailed(name, exc) from exc
            ctx.say(f"  {name} done in {time.monotonic() - t0:.1f}s")
    finally:
        ctx.close()
    return time.monotonic() - started


def summary_table(ctx: DemoContext, total_seconds: float | None) -> Table:
    title = "cutover demo" + (f" ({total_seconds:.0f}s)" if total_seconds is not None else " (incomplete)")
    table = Table(title=title)
    table.add_column("step")
    table.add_column("what")
    table.add_column("value", justify="right")
    previous = None
    for step, what, value in ctx.rows:
        table.add_row(step if step != previous else "", what, value)
        previous = step
    return table


def print_summary(ctx: DemoContext, total_seconds: float | None, console: Console | None = None) -> None:
    (console or Console()).print(summary_table(ctx, total_seconds))
