"""`cutover demo`: seed messy legacy data, sync it live while a writer changes it, prove it, flip, and summarise."""

from __future__ import annotations

import logging

import click

from cutover_cli._common import Runtime, common_options
from cutover_cli.demo import DemoContext, DemoOptions, is_seed, plan_for, print_summary, run_steps


@click.command("demo")
@click.option(
    "--quick",
    is_flag=True,
    help="A small, few-second run (seed: 100 users, 150 orders; another migration: 100 items per source role; "
    "2.5 s of live writes).",
)
@click.option("--users", type=click.IntRange(1), default=None, help="Seed migration: legacy users [default: 2000].")
@click.option("--orders", type=click.IntRange(1), default=None, help="Seed migration: legacy orders [default: 3000].")
@click.option(
    "--items",
    type=click.IntRange(1),
    default=None,
    help="Another migration: legacy items generated per source role [default: 200].",
)
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
def command(
    rt: Runtime,
    quick: bool,
    users: int | None,
    orders: int | None,
    items: int | None,
    seconds: float | None,
    random_seed: int,
) -> None:
    """Run the whole job on a local backend and print a summary.

    Starts an embedded in-memory backend (or uses --endpoint-url), creates the tables, seeds the
    legacy tables (the seed migration: users and orders with mixed timestamp formats, messy emails
    and a few bad items; another migration: items generated from its definition, a few of them
    bad), then keeps syncing while a writer changes legacy items and backfill copies the history,
    drains, checks v3 against the legacy tables, reconciles, and flips shadow, v3 and back. The
    seed's reads through its example API are skipped, with a note, for another migration.
    Exit 0 when v3 matches, 1 if the final check finds a difference, 2 on an error.
    """
    from cutover.migration_loader import load_migration

    migration = load_migration(rt.requested.migration)  # read once, here: a bad definition fails before any step
    seed_demo = is_seed(migration)
    if seed_demo and items is not None:
        raise click.UsageError("--items is for another migration's demo: the seed demo takes --users and --orders")
    if not seed_demo and (users is not None or orders is not None):
        raise click.UsageError(
            f"--users/--orders are the seed demo's: migration {migration.name!r} takes --items (per source role)"
        )
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("replicator").addHandler(logging.NullHandler())  # quarantines are summarised instead
    base = DemoOptions.quick() if quick else DemoOptions()
    options = DemoOptions(
        users=users or base.users,
        orders=orders or base.orders,
        items=items or base.items,
        live_seconds=seconds or base.live_seconds,
        writes_per_second=base.writes_per_second,
        seed=random_seed,
    )
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
