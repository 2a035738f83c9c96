"""Bench 1: transform throughput on one core, DynamoDB JSON in and out.

Measured: `from_ddb` -> `Migration.transform` (the definition's transform and the engine's
output checks, what every record costs) -> `to_ddb` over stream-shaped images of messy items (bad
items raise and are counted, as the replicator would quarantine them). Baseline: the same images
through boto3's own TypeDeserializer + TypeSerializer only (what a straightforward implementation
pays before doing any work; cutover's codec in `cutover/codec.py` is a faster equivalent). Best of several
rounds, single thread, no I/O, so it is one core's rate.
"""

from __future__ import annotations

import time

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from bench.data import legacy_items
from bench.harness import BenchContext, ratio_figure
from cutover.codec import from_ddb, to_ddb

TARGET = 50_000


def _best_rate(fn, images, rounds: int) -> float:
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        fn(images)
        best = max(best, len(images) / (time.perf_counter() - start))
    return best


def run(ctx: BenchContext) -> None:
    from bench.data import migration
    from cutover.transform_errors import TransformError

    transform = migration().transform  # the engine's path: the user's transform, then its output checks
    count = 1_000 if ctx.quick else 10_000
    rounds = 2 if ctx.quick else 3
    images = [(source, to_ddb(item)) for source, item in legacy_items(count, seed=11)]

    def full(batch) -> None:
        for source, image in batch:
            try:
                for out in transform(source, from_ddb(image)):
                    to_ddb(out)
            except TransformError:
                pass

    boto_de, boto_ser = TypeDeserializer().deserialize, TypeSerializer().serialize

    def ceiling(batch) -> None:
        for _source, image in batch:
            plain = {k: boto_de(v) for k, v in image.items()}
            {k: boto_ser(v) for k, v in plain.items()}

    baseline = _best_rate(ceiling, images, rounds)
    measured = _best_rate(full, images, rounds)
    flat = [(source, to_ddb(_flatten(item))) for source, item in legacy_items(count, seed=11)]
    flat_baseline, flat_measured = _best_rate(ceiling, flat, rounds), _best_rate(full, flat, rounds)
    ctx.details["transform"] = {
        "items": count,
        "rounds": rounds,
        "items_per_s": measured,
        "boto3_roundtrip_per_s": baseline,
        "flat_items_per_s": flat_measured,
        "flat_boto3_roundtrip_per_s": flat_baseline,
    }
    ctx.add(
        ratio_figure(
            "transform",
            "items/s (1 core, ddb json in+out)",
            measured,
            baseline,
            unit="items/s",
            baseline_name="boto3 deser+ser only",
            target_min=TARGET,
            target=f">= {TARGET:,}/s",
            note=f"{count:,} messy items (~1% bad; nested maps, lists, sets; ~480 B), best of {rounds} rounds",
        )
    )
    ctx.add(
        ratio_figure(
            "transform",
            "items/s, flat items (reference)",
            flat_measured,
            flat_baseline,
            unit="items/s",
            baseline_name="boto3 deser+ser only",
            note="same items with only their scalar attributes (~6)",
        )
    )


def _flatten(item: dict) -> dict:
    """The item without nested or set attributes: what a simple legacy row would look like."""
    return {k: v for k, v in item.items() if not isinstance(v, (dict, list, set))}
