"""Benches 4-6: backfill throughput vs. the conditional-write ceiling, under a 5 ms round trip,
and against the sequential safe copy and the naive script.

One namespace is seeded with `--items` legacy items (BatchWriteItem, 8 threads). Then, each
timed on its own: the conditional-PutItem ceiling (32 threads, 5 s); `run_backfill` (defaults:
8 segments, 4 workers, 32 write threads; require_sync=False); v3 and cutover's own tables are
recreated empty; `run_backfill` again with every request delayed 5 ms client-side; the
sequential safe copy under the same delay and the naive script, both on a subset into scratch
tables. items/s = legacy items scanned (each one transformed and written or quarantined) / wall
seconds, including checkpoints and the run report.
"""

from __future__ import annotations

from bench.ceilings import conditional_put_ceiling, scratch_table
from bench.copies import DelayedClients, naive_copy, sequential_safe_copy
from bench.data import is_good, legacy_items, legacy_rows, seed
from bench.harness import (
    WRONG,
    BenchContext,
    as_dict,
    count_items,
    cpu_figure,
    cpu_timed,
    ratio_figure,
    sum_numbers,
    timed,
)
from cutover_cli.local_backend import init_backend

DELAY = 0.005
TARGET_CEILING, TARGET_DELAYED, TARGET_VS_SEQUENTIAL = 0.80, 0.80, 3.0


def _reset_targets(clients, names) -> None:
    """Empty v3 and cutover's bookkeeping (cursors, quarantine, reports); keep the legacy tables."""
    for spec in (names.v3_spec(), *names.own_specs()):
        clients.dynamodb.delete_table(TableName=spec.name)
    for spec in (names.v3_spec(), *names.own_specs()):  # dynalite (like AWS) deletes in the background
        clients.dynamodb.get_waiter("table_not_exists").wait(
            TableName=spec.name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
    init_backend(clients.settings, clients)


def _backfill(settings, clients, items: int, good: int) -> dict:
    from backfill.runner import run_backfill

    summary, elapsed, cpu = cpu_timed(lambda: run_backfill(settings, clients, require_sync=False))
    data = as_dict(summary)
    scanned = sum_numbers(data.get("tables", {}), "scanned") or 0
    quarantined = sum_numbers(data.get("tables", {}), "quarantined") or 0
    in_v3 = count_items(clients.dynamodb, settings.names.v3_table, live_only=True)
    return {
        "seconds": elapsed,
        "items_per_s": items / elapsed,
        "cpu_seconds": cpu,
        "cpu_ms_per_item": 1000 * cpu / items,
        "summary": data,
        "v3_items": in_v3,
        "exact": scanned == items and in_v3 == good and quarantined == items - good,
    }


def run(ctx: BenchContext) -> None:
    import backfill.runner  # noqa: F401 - fail early as "not available" before seeding

    items = ctx.items
    subset = min(items, 100 if ctx.quick else 5_000)
    seconds = 0.5 if ctx.quick else 5.0
    good = sum(is_good(s, i) for s, i in legacy_items(items, seed=42, prefix="b"))
    with ctx.namespace("backfill") as (settings, clients):
        names = settings.names
        _, seed_s = timed(lambda: seed(clients, legacy_rows(names, items, seed_value=42, prefix="b")))
        ceiling = conditional_put_ceiling(clients, seconds)
        plain = _backfill(settings, clients, items, good)
        _reset_targets(clients, names)
        delayed_clients = DelayedClients(settings, DELAY)
        delayed = _backfill(settings, delayed_clients, items, good)
        sequential = sequential_safe_copy(delayed_clients, scratch_table(clients, "seq"), subset)
        naive = naive_copy(clients, scratch_table(clients, "naive"), subset)
        naive_delayed = naive_copy(delayed_clients, scratch_table(clients, "naived"), subset)
    ctx.detail(
        "backfill",
        {
            "items": items,
            "subset": subset,
            "seed_seconds": seed_s,
            "seed_items_per_s": items / seed_s,
            "conditional_put_ceiling": ceiling,
            "backfill": plain,
            "backfill_delayed_5ms": delayed,
            "sequential_safe_copy_delayed_5ms": sequential,
            "naive_copy": naive,
            "naive_copy_delayed_5ms": naive_delayed,
            "items_per_s": plain["items_per_s"],
        },
    )
    n = f"{items:,} items"
    figures = [
        (
            plain,
            ratio_figure(
                "backfill",
                "items/s",
                plain["items_per_s"],
                ceiling["items_per_s"],
                unit="items/s",
                baseline_name="cond. PutItem x32 threads",
                target_ratio=TARGET_CEILING,
                target=f">= {TARGET_CEILING:.0%} of ceiling",
                note=f"{n} in {plain['seconds']:.1f}s",
            ),
        ),
        (
            delayed,
            ratio_figure(
                "backfill",
                "items/s, +5 ms/request",
                delayed["items_per_s"],
                plain["items_per_s"],
                unit="items/s",
                baseline_name="same backfill, no delay",
                target_ratio=TARGET_DELAYED,
                target=f">= {TARGET_DELAYED:.0%} of no-delay",
                note=f"{n} in {delayed['seconds']:.1f}s",
            ),
        ),
        (
            delayed,
            ratio_figure(
                "backfill",
                "+5 ms vs sequential safe copy",
                delayed["items_per_s"],
                sequential["items_per_s"],
                unit="items/s",
                baseline_name="Scan + 1 cond. put at a time, +5 ms",
                target_ratio=TARGET_VS_SEQUENTIAL,
                target=f">= {TARGET_VS_SEQUENTIAL:g}x",
                note=f"sequential copy on a {sequential['scanned']:,}-item subset",
            ),
        ),
        (
            plain,
            cpu_figure(
                "backfill",
                plain["cpu_ms_per_item"],
                ceiling,
                f"{plain['cpu_seconds']:.1f} CPU s for {n} (scan, transform, cond. put, checkpoints)",
            ),
        ),
        (
            plain,
            ratio_figure(
                "backfill",
                "vs naive script (reference)",
                plain["items_per_s"],
                naive["items_per_s"],
                unit="items/s",
                baseline_name="Scan Limit 25 + BatchWriteItem, no retries",
                note=f"naive on a {naive['scanned']:,}-item subset; unconditional, drops UnprocessedItems",
            ),
        ),
        (
            delayed,
            ratio_figure(
                "backfill",
                "+5 ms vs naive +5 ms (reference)",
                delayed["items_per_s"],
                naive_delayed["items_per_s"],
                unit="items/s",
                baseline_name="naive script, +5 ms",
            ),
        ),
    ]
    for result, figure in figures:
        if not result["exact"]:
            figure.status = WRONG
            figure.note = (figure.note + "; " if figure.note else "") + (
                f"v3 has {result['v3_items']} items, want {good}; summary {result['summary'].get('tables')}"
            )
        ctx.add(figure)
