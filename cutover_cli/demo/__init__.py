"""`cutover demo`: the whole job on an embedded backend, as a list of steps over one context.

`plan_for(migration)` picks the plan: `STEPS` (in `steps`) for the seed migration, with its
users/orders data and its example API; `GENERIC_STEPS` (in `generic`) for any other definition,
on items generated from it. `run_steps` (in `runner`) executes a plan; each step appends rows to
the summary. This package's own module stays light (no SDK): `cutover --help` imports it through
the demo command's options.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cutover.migration import Migration

if TYPE_CHECKING:
    from cutover_cli.demo.steps import Step

__all__ = ["is_seed", "plan_for"]


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
