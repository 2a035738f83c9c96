"""Bench 7: reconcile throughput and peak memory, at two table sizes.

At two sizes (`--items`, then grown in place to 4x that; quick: 2x), a namespace holds that
many good legacy items AND the v3 items a finished backfill leaves (both seeded via parallel
BatchWriteItem, so seeding is not the thing measured). Bad items are left out: with no quarantine entries they
would be real differences. Then `run_reconcile` (8 segments, 4 workers) runs in a SUBPROCESS
(`bench.rss_child`) against the same moto server, so its peak RSS (VmHWM) excludes the server.
items/s = legacy items compared / reconcile wall seconds (both directions are scanned, so the
work is ~2x the items). Baseline for speed: the backfill's items/s from this run (if `backfill`
ran), else the conditional-PutItem ceiling measured here. Memory is flat if the bigger table's
peak RSS is within 15% (+10 MB) of the smaller's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.ceilings import conditional_put_ceiling
from bench.data import is_good, legacy_rows, seed, v3_rows
from bench.harness import MISS, PASS, BenchContext, Figure, find_number, ratio_figure, timed

RSS_LIMIT_MB = 300.0
ROOT = Path(__file__).resolve().parent.parent


def _good_rows(names, count: int, prefix: str):
    for table, item in legacy_rows(names, count, seed_value=9, prefix=prefix):
        source = names.source_of_table(table)
        if is_good(source, item):
            yield table, item


def _good_count(names, count: int, prefix: str) -> int:
    return sum(1 for _ in _good_rows(names, count, prefix))


def _reconcile_in_child(ctx: BenchContext, service: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.rss_child", "--endpoint-url", ctx.endpoint_url, "--service", service],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=1800,
    )
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"reconcile child failed ({proc.returncode}): {proc.stderr[-800:]}")
    return json.loads(proc.stdout)


def _measure(ctx: BenchContext, settings, clients, count: int, prefix: str) -> dict:
    """Add `count` good items (legacy + matching v3) under `prefix`, then reconcile everything."""
    names = settings.names
    _, seed_s = timed(
        lambda: (seed(clients, _good_rows(names, count, prefix)), seed(clients, _v3_of_good(names, count, prefix)))
    )
    child = _reconcile_in_child(ctx, settings.service)
    compared = find_number(child["report"], "compared") or 0
    differences = sum(find_number(child["report"], k) or 0 for k in ("missing", "extra", "different"))
    if child["report"].get("clean") is False:
        differences = max(differences, 1)
    return {"seed_seconds": seed_s, "compared": compared, "differences": differences, **child}


def _v3_of_good(names, count: int, prefix: str):
    return v3_rows(names, count, seed_value=9, prefix=prefix)  # bad items have no v3 row: same set


def run(ctx: BenchContext) -> None:
    import reconciler.run  # noqa: F401 - "not available" before spending time seeding

    small_n = ctx.reconcile_items or ctx.items
    factor = 2 if ctx.quick else 4
    with ctx.namespace("recon") as (settings, clients):
        # one namespace, grown in place: n items, reconcile; add (factor-1)*n more, reconcile again
        runs, total = [], 0
        for count, prefix in ((small_n, "r"), (small_n * (factor - 1), "s")):
            total += _good_count(settings.names, count, prefix)
            run_ = _measure(ctx, settings, clients, count, prefix)
            runs.append({**run_, "items": total, "items_per_s": total / run_["seconds"]})
        ceiling = None if "backfill" in ctx.details else conditional_put_ceiling(clients, 0.5 if ctx.quick else 5.0)
    small, big = runs
    ctx.details["reconcile"] = {"runs": runs}
    if "backfill" in ctx.details:
        baseline, base_name = ctx.details["backfill"]["items_per_s"], "backfill items/s, this run"
    else:
        baseline, base_name = ceiling["items_per_s"], "cond. PutItem ceiling (backfill not run)"
    for r in runs:
        figure = ratio_figure(
            "reconcile",
            f"items/s @ {r['items']:,}",
            r["items_per_s"],
            baseline,
            unit="items/s",
            baseline_name=base_name,
            target_ratio=1.0,
            target=">= backfill",
            note=f"compared {r['compared']:.0f}, differences {r['differences']:.0f}, {r['seconds']:.1f}s",
        )
        if r["differences"] or r["compared"] < r["items"]:
            figure.status = "WRONG RESULT"
        ctx.add(figure)
    ctx.add(
        ratio_figure(
            "reconcile",
            f"peak RSS @ {big['items']:,}",
            big["peak_rss_mb"],
            small["peak_rss_mb"],
            unit="MB",
            baseline_name=f"peak RSS @ {small['items']:,}",
            target_max=RSS_LIMIT_MB,
            target=f"< {RSS_LIMIT_MB:g} MB",
            note=f"subprocess VmHWM; {big['rss_after_imports_mb']:.0f} MB of it is Python + boto3 after imports",
        )
    )
    flat = big["peak_rss_mb"] <= small["peak_rss_mb"] * 1.15 + 10
    ctx.add(
        Figure(
            "reconcile",
            "RSS flat in table size",
            big["peak_rss_mb"] - small["peak_rss_mb"],
            "MB",
            target=f"{factor}x items: <= +15% +10 MB",
            baseline=small["peak_rss_mb"],
            baseline_name="smaller size",
            status=PASS if flat else MISS,
        )
    )
