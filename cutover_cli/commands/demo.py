"""`cutover demo`: seed messy legacy data, sync it live while a writer changes it, prove it, flip, and summarise."""

from __future__ import annotations

import logging

import click

from cutover_cli._common import Runtime, common_options
from cutover_cli.demo.options import QUICK_HELP, build_options, size_options


@click.command("demo", short_help="Seed, sync, backfill, reconcile, flip, roll back: locally.")
@click.option("--quick", is_flag=True, help=QUICK_HELP)
@size_options
@click.option(
    "--seconds",
    type=click.FloatRange(0.5, 600),
    default=None,
    help="How long the legacy writer runs during live sync [default: 10].",
)
@click.option(
    "--seed", "random_seed", type=int, default=7, show_default=True, help="Random seed for the generated data."
)
@common_options
def command(rt: Runtime, quick: bool, seconds: float | None, random_seed: int, **sizes: int | None) -> None:
    """The whole migration locally: seed, sync, backfill, reconcile, flip to shadow and v3, rollback.

    Starts an embedded in-memory backend (or uses --endpoint-url), creates the tables, seeds the
    legacy tables (the seed migration: its messy legacy data with a few bad items; another
    migration: items generated from its definition, a few of them bad), then keeps syncing while a
    writer changes legacy items and backfill copies the history, drains, checks v3 against the
    legacy tables, reconciles, and flips shadow, v3 and back. The seed's reads through its example
    API are skipped, with a note, for another migration.
    Exit 0 when v3 matches, 1 if the final check finds a difference, 2 on an error.
    """
    from cutover.migration_loader import load_migration
    from cutover_cli.demo import DemoContext, plan_for, print_summary, run_steps

    migration = load_migration(rt.requested.migration)  # read once, here: a bad definition fails before any step
    options = build_options(migration, quick, seconds, random_seed, sizes)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("replicator").addHandler(logging.NullHandler())  # quarantines are summarised instead
    say = (lambda _msg: None) if rt.as_json else (lambda msg: click.echo(msg, err=True))
    ctx = DemoContext(rt.requested, options, say=say)
    total = None
    try:
        total = run_steps(ctx, plan_for(migration))
    finally:
        rt.emit(
            {
                "seconds": None if total is None else round(total, 1),
                "complete": total is not None,
                "rows": [{"step": s, "what": w, "value": v} for s, w, v in ctx.rows],
            },
            lambda: print_summary(ctx, total),
        )
