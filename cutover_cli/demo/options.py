"""`cutover demo`'s options: the sizes of the seed demo's data (users, orders) or of another
definition's generated items, checked against which demo the definition gets.

Kept in the demo package (the seed's guided demo may name the seed's tables) so the command
module stays generic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from cutover.migration import Migration
from cutover_cli.demo import is_seed

if TYPE_CHECKING:
    from cutover_cli.demo.context import DemoOptions

QUICK_HELP = (
    "A small, few-second run (seed: 100 users, 150 orders; another migration: 100 items per source role; "
    "2.5 s of live writes)."
)


def size_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--users/--orders (the seed demo) and --items (any other definition's), passed on as `sizes`."""
    options = (
        click.option(
            "--users",
            "users",
            type=click.IntRange(1),
            default=None,
            help="Seed migration: legacy users [default: 2000].",
        ),
        click.option(
            "--orders",
            "orders",
            type=click.IntRange(1),
            default=None,
            help="Seed migration: legacy orders [default: 3000].",
        ),
        click.option(
            "--items",
            "items",
            type=click.IntRange(1),
            default=None,
            help="Another migration: legacy items generated per source role [default: 200].",
        ),
    )
    for option in reversed(options):
        func = option(func)
    return func


def build_options(
    migration: Migration, quick: bool, seconds: float | None, seed: int, sizes: dict[str, int | None]
) -> DemoOptions:
    """The run's options; sizes of the other demo's data are a usage error (one line naming the right ones).

    Raises:
        click.UsageError: --items for the seed demo, or --users/--orders for another definition's.
    """
    from cutover_cli.demo.context import DemoOptions  # the AWS SDK only once the demo runs

    users, orders, items = sizes.get("users"), sizes.get("orders"), sizes.get("items")
    if is_seed(migration) and items is not None:
        raise click.UsageError("--items is for another migration's demo: the seed demo takes --users and --orders")
    if not is_seed(migration) and (users is not None or orders is not None):
        raise click.UsageError(
            f"--users/--orders are the seed demo's: migration {migration.name!r} takes --items (per source role)"
        )
    base = DemoOptions.quick() if quick else DemoOptions()
    return DemoOptions(
        users=users or base.users,
        orders=orders or base.orders,
        items=items or base.items,
        live_seconds=seconds or base.live_seconds,
        writes_per_second=base.writes_per_second,
        seed=seed,
    )
