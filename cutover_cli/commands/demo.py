"""`cutover demo`: seed messy legacy data, sync it live while a writer changes it, and summarise."""

from __future__ import annotations

import logging

import click

from cutover_cli._common import Runtime, common_options


@click.command("demo", short_help="Seed, sync, backfill, reconcile, flip, roll back: locally.")
@click.option("--quick", is_flag=True, help="A small, few-second run (100 users, 150 orders, 2.5 s of live writes).")
@click.option("--users", type=click.IntRange(1), default=None, help="Legacy users to seed [default: 2000].")
@click.option("--orders", type=click.IntRange(1), default=None, help="Legacy orders to seed [default: 3000].")
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
    rt: Runtime, quick: bool, users: int | None, orders: int | None, seconds: float | None, random_seed: int
) -> None:
    """The whole migration locally: seed, sync, backfill, reconcile, flip to v3, rollback.

    Starts an embedded in-memory backend (or uses --endpoint-url), creates the tables and seeds
    legacy users and orders (mixed timestamp formats, messy emails, a few bad items) before the
    streams are on. Then live sync replicates while a writer updates, deletes and moves legacy
    items, and backfill copies the history the streams never saw; a final drain, a check of v3
    against the legacy tables, a reconcile of both directions, then the reads move: flip to shadow
    (reads compared), flip to v3 (reads served by v3), and rollback to legacy. A summary of
    every step is printed at the end. Exit 0 when v3 matches, 1 if the check or the reconcile
    finds a difference, 2 on an error.
    """
    from cutover_cli.demo import STEPS, DemoContext, DemoOptions, print_summary, run_steps

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("replicator").addHandler(logging.NullHandler())  # quarantines are summarised instead
    base = DemoOptions.quick() if quick else DemoOptions()
    options = DemoOptions(
        users=users or base.users,
        orders=orders or base.orders,
        live_seconds=seconds or base.live_seconds,
        writes_per_second=base.writes_per_second,
        seed=random_seed,
    )
    say = (lambda _msg: None) if rt.as_json else (lambda msg: click.echo(msg, err=True))
    ctx = DemoContext(rt.requested, options, say=say)
    total = None
    try:
        total = run_steps(ctx, STEPS)
    finally:
        rt.emit(
            {
                "seconds": None if total is None else round(total, 1),
                "complete": total is not None,
                "rows": [{"step": s, "what": w, "value": v} for s, w, v in ctx.rows],
            },
            lambda: print_summary(ctx, total),
        )
