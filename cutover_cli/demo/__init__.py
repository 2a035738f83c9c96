"""`cutover demo`: the whole job on an embedded backend, as a list of steps over one context.

`plan_for(migration)` picks the plan: `STEPS` (in `steps`) for the seed migration, with its
users/orders data and its example API; `GENERIC_STEPS` (in `generic`) for any other definition,
on items generated from it. `run_steps` executes a plan; each step appends rows to the summary.

The package's names are imported on first use (PEP 562), so the command's options
(`cutover_cli.demo.options`) load without the steps, the AWS SDK or rich: `cutover --help` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cutover.migration import Migration

if TYPE_CHECKING:
    from cutover_cli.demo.context import DemoContext, DemoOptions
    from cutover_cli.demo.runner import print_summary, run_steps
    from cutover_cli.demo.steps import STEPS, Step

__all__ = ["STEPS", "DemoContext", "DemoOptions", "Step", "is_seed", "plan_for", "print_summary", "run_steps"]
_LAZY = {
    "DemoContext": "cutover_cli.demo.context",
    "DemoOptions": "cutover_cli.demo.context",
    "print_summary": "cutover_cli.demo.runner",
    "run_steps": "cutover_cli.demo.runner",
    "STEPS": "cutover_cli.demo.steps",
    "Step": "cutover_cli.demo.steps",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def is_seed(migration: Migration) -> bool:
    """The seed migration (the default definition), by identity: its demo drives its example API."""
    from cutover.migration_loader import DEFAULT_SPEC, load_migration

    return migration is load_migration(DEFAULT_SPEC)


def plan_for(migration: Migration) -> list[Step]:
    if is_seed(migration):
        from cutover_cli.demo.steps import STEPS

        return STEPS
    from cutover_cli.demo.generic import GENERIC_STEPS

    return GENERIC_STEPS
