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
    """The whole migration locally: seed, sync, backfill, reconcile, flip to v3, rollback.

    Starts an embedded in-memory backend (or uses --endpoint-url), creates the tables and seeds the
    legacy tables before the streams are on: for the seed migration its legacy users and orders
    (mixed timestamp formats, messy emails, a few bad items), for another definition (--migration)
    items generated from it, a few of them bad. Then live sync replicates while a writer changes
    legacy items, and backfill copies the history the streams never saw; a final drain, a check of
    v3 against the legacy tables, a reconcile of both directions, then the reads move: flip to
    shadow (reads compared), flip to v3 (reads served by v3), and rollback to legacy. Another
    definition's demo also fixes and re-drives one quarantined item, and skips the reads through
    the seed's example API (saying so). A summary of every step is printed at the end. Exit 0 when
    v3 matches, 1 if the check or the reconcile finds a difference, 2 on an error.
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
