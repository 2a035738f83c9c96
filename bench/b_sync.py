"""Bench 2: sync throughput, legacy write -> v3 visible, as a ratio of the backend's own ceiling.

Method: pre-load N legacy writes (BatchWriteItem into both legacy tables, so N INSERT stream
records wait), then time `run_sync(once=True)` draining them. items/s = records drained / wall
seconds, including stream reads (DescribeStream, GetShardIterator, GetRecords), the handler's
transform, version-guarded PutItems, quarantine writes and checkpoints. Afterwards v3 and
quarantine are counted so a fast-but-wrong drain cannot pass.
Baseline: conditional PutItem from 32 threads on a scratch table (same run, same server), the
cost floor of any version-guarded write; unconditional BatchWriteItem is shown for reference.
"""

from __future__ import annotations

from bench.ceilings import batch_write_ceiling, conditional_put_ceiling
from bench.data import is_good, legacy_items, legacy_rows, seed
from bench.harness import WRONG, BenchContext, Figure, as_dict, count_items, cpu_figure, cpu_timed, ratio_figure

TARGET_RATIO = 0.70


def run(ctx: BenchContext) -> None:
    from replicator.poller.sync import run_sync  # lazily: the bench reports "not available" without it

    records = 100 if ctx.quick else 10_000
    seconds = 0.5 if ctx.quick else 5.0
    with ctx.namespace("sync") as (settings, clients):
        names = settings.names
        put_ceiling = conditional_put_ceiling(clients, seconds)
        bwi_ceiling = batch_write_ceiling(clients, seconds)
        seed(clients, legacy_rows(names, records, seed_value=21, prefix="s"))
        good = sum(is_good(s, i) for s, i in legacy_items(records, seed=21, prefix="s"))
        result, elapsed, cpu = cpu_timed(lambda: run_sync(settings, clients, once=True))
        in_v3 = count_items(clients.dynamodb, names.v3_table, live_only=True)
        quarantined = count_items(clients.dynamodb, names.quarantine_table)
    rate = records / elapsed
    exact = in_v3 == good and quarantined == records - good
    ctx.details["sync"] = {
        "records": records,
        "seconds": elapsed,
        "items_per_s": rate,
        "v3_items": in_v3,
        "expected_v3_items": good,
        "quarantined": quarantined,
        "exact": exact,
        "cpu_seconds": cpu,
        "cpu_ms_per_item": 1000 * cpu / records,
        "sync_result": as_dict(result),
        "conditional_put_ceiling": put_ceiling,
        "batch_write_ceiling": bwi_ceiling,
    }
    figure = ctx.add(
        ratio_figure(
            "sync",
            "drain items/s (legacy write -> v3)",
            rate,
            put_ceiling["items_per_s"],
            unit="items/s",
            baseline_name="cond. PutItem x32 threads",
            target_ratio=TARGET_RATIO,
            target=f">= {TARGET_RATIO:.0%} of ceiling",
            note=(
                f"{records:,} stream records drained by run_sync(once=True) in {elapsed:.1f}s"
                + ("" if exact else f"; WRONG RESULT: v3 has {in_v3} (want {good}), quarantine {quarantined}")
            ),
        )
    )
    if not exact:
        figure.status = WRONG
    ctx.add(
        cpu_figure(
            "sync",
            1000 * cpu / records,
            put_ceiling,
            f"{cpu:.1f} CPU s for {records:,} records (stream reads, transform, cond. put, checkpoints)",
        )
    )
    ctx.add(
        Figure(
            "sync",
            "reference: BatchWriteItem items/s",
            bwi_ceiling["items_per_s"],
            "items/s",
            note="unconditional 25-item batches, 8 threads: cannot carry a version guard",
        )
    )
