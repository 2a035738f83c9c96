"""Bench 7: reconcile throughput, reads per item and peak memory, at growing table sizes.

At each size (`--size`s; default `--reconcile-items` and 4x it; quick: 2x), one namespace grown in
place holds that many good legacy items AND the v3 items a finished backfill leaves (both seeded via
parallel BatchWriteItem, so seeding is not the thing measured). Bad items are left out: with no
quarantine entries they would be real differences. Then `run_reconcile` (8 segments, 4 workers; a
full run, so the merge reconcile) runs in a SUBPROCESS (`bench.rss_child`) against the same servers,
so its peak RSS (VmHWM) excludes them. items/s = legacy items compared / reconcile wall seconds.
reads per item = items returned by Scan/BatchGetItem/GetItem/Query / legacy items compared; at the
smallest size the page-by-page check (`method="pages"`, the segment Lambda's) runs on the same table
as the reference. Baseline for speed: the same engine's backfill items/s from this run (if `backfill`
ran), else the conditional-PutItem ceiling measured here. Memory is flat if each bigger table's
peak RSS is within 15% (+10 MB) of the previous size's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.ceilings import conditional_put_ceiling
from bench.data import is_good, legacy_rows, seed, v3_rows
from bench.harness import MISS, PASS, WRONG, BenchContext, Figure, find_number, ratio_figure, timed

RSS_LIMIT_MB = 300.0
MAX_READS_PER_ITEM = 2.0
CHILD_TIMEOUT = 3600
UNITS_NOTE = {  # ConsumedCapacity as each engine reports it (tests/integration/test_engines.py)
    "dynalite": "ConsumedCapacity as dynalite reports it: size-based, as on AWS (Scan: page size / 4 KB)",
    "moto": "moto reports 1 unit per request whatever its size: NOT AWS's read units",
}
ROOT = Path(__file__).resolve().parent.parent


def _good_rows(names, count: int, prefix: str):
    for table, item in legacy_rows(names, count, seed_value=9, prefix=prefix):
        source = names.source_of_table(table)
        if is_good(source, item):
            yield table, item


def _good_count(names, count: int, prefix: str) -> int:
    return sum(1 for _ in _good_rows(names, count, prefix))


def _reconcile_in_child(ctx: BenchContext, service: str, method: str = "auto") -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-m", "bench.rss_child", "--endpoint-url", ctx.endpoint_url, "--service", service]
    if ctx.dynamodb_endpoint_url:
        cmd += ["--dynamodb-endpoint-url", ctx.dynamodb_endpoint_url]
    proc = subprocess.run(
        [*cmd, "--method", method], capture_output=True, text=True, env=env, cwd=ROOT, timeout=CHILD_TIMEOUT
    )
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"reconcile child failed ({proc.returncode}): {proc.stderr[-800:]}")
    return json.loads(proc.stdout)


def _measure(ctx: BenchContext, settings, clients, count: int, prefix: str, method: str = "auto") -> dict:
    """Add `count` good items (legacy + matching v3) under `prefix` (0: add none), then reconcile everything."""
    names = settings.names
    _, seed_s = timed(
        lambda: (seed(clients, _good_rows(names, count, prefix)), seed(clients, _v3_of_good(names, count, prefix)))
    )
    child = _reconcile_in_child(ctx, settings.service, method)
    compared = find_number(child["report"], "compared") or 0
    differences = sum(find_number(child["report"], k) or 0 for k in ("missing", "extra", "different"))
    if child["report"].get("clean") is False:
        differences = max(differences, 1)
    reads = sum(child["read_items"].values())
    return {
        "method": method,
        "seed_seconds": seed_s,
        "compared": compared,
        "differences": differences,
        "reads_per_item": reads / compared if compared else None,
        "read_units_per_million": 1e6 * sum(child["read_units"].values()) / compared if compared else None,
        "cpu_ms_per_item": 1000 * child["cpu_seconds"] / compared if compared else None,
        **child,
    }


def _v3_of_good(names, count: int, prefix: str):
    return v3_rows(names, count, seed_value=9, prefix=prefix)  # bad items have no v3 row: same set


def sizes(ctx: BenchContext) -> list[int]:
    """Table sizes reconciled, smallest first: `--size`s, else `--reconcile-items` and 4x it (quick: 2x)."""
    if ctx.reconcile_sizes:
        return sorted(set(ctx.reconcile_sizes))
    small = ctx.reconcile_items or ctx.items
    return [small, small * (2 if ctx.quick else 4)]


def run(ctx: BenchContext) -> None:
    import reconciler.run  # noqa: F401 - "not available" before spending time seeding

    runs: list[dict] = []
    reference: dict | None = None
    failed: str | None = None
    with ctx.namespace("recon") as (settings, clients):
        # one namespace, grown in place to each size in turn, reconciled at each
        total, previous = 0, 0
        for n, size in enumerate(sizes(ctx)):
            prefix = "rstwxyz"[n % 7] + str(n // 7)
            total += _good_count(settings.names, size - previous, prefix)
            try:
                run_ = _measure(ctx, settings, clients, size - previous, prefix)
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
                failed = f"{size:,} items: {exc}"[:400]
                break
            previous = size
            runs.append({**run_, "items": total, "items_per_s": total / run_["seconds"]})
            if n == 0:  # the page-by-page check on the same table: the reads-per-item reference
                reference = _measure(ctx, settings, clients, 0, prefix, method="pages")
                reference.update(items=total, items_per_s=total / reference["seconds"])
        ceiling = None if ctx.detail("backfill") else conditional_put_ceiling(clients, 0.5 if ctx.quick else 5.0)
    ctx.detail("reconcile", {"runs": runs, "pages_reference": reference, "failed": failed})
    _figures(ctx, runs, reference, ceiling, failed)


def _figures(ctx: BenchContext, runs: list[dict], reference: dict | None, ceiling: dict | None, failed) -> None:
    if ctx.detail("backfill"):
        baseline, base_name = ctx.detail("backfill")["items_per_s"], "backfill items/s, this run"
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
            figure.status = WRONG
        ctx.add(figure)
        ctx.add(
            Figure(
                "reconcile",
                f"reads per item @ {r['items']:,}",
                r["reads_per_item"],
                "reads",
                target=f"<= {MAX_READS_PER_ITEM:g} (clean table)",
                baseline=reference["reads_per_item"] if reference else None,
                baseline_name="page-by-page check (BatchGets), same table",
                ratio=r["reads_per_item"] / reference["reads_per_item"] if reference else None,
                status=PASS if r["reads_per_item"] is not None and r["reads_per_item"] <= MAX_READS_PER_ITEM else MISS,
                note=f"items returned: {r['read_items']}; requests: {r['read_requests']}",
            )
        )
        ctx.add(
            Figure(
                "reconcile",
                f"read units per million items @ {r['items']:,} (reference)",
                r["read_units_per_million"],
                "RU",
                baseline=reference["read_units_per_million"] if reference else None,
                baseline_name="page-by-page check",
                ratio=r["read_units_per_million"] / reference["read_units_per_million"]
                if reference and reference["read_units_per_million"]
                else None,
                note=UNITS_NOTE[ctx.engine],
            )
        )
        ctx.add(
            Figure(
                "reconcile",
                f"client CPU per item @ {r['items']:,} (reference)",
                r["cpu_ms_per_item"],
                "ms",
                baseline=reference["cpu_ms_per_item"] if reference else None,
                baseline_name="page-by-page check",
            )
        )
    if failed:
        ctx.add(Figure("reconcile", "completes at every size", None, "", target="completes", status=MISS, note=failed))
    for small, big in zip(runs, runs[1:], strict=False):
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
                f"RSS flat in table size ({small['items']:,} -> {big['items']:,})",
                big["peak_rss_mb"] - small["peak_rss_mb"],
                "MB",
                target=f"{big['items'] / small['items']:.0f}x items: <= +15% +10 MB",
                baseline=small["peak_rss_mb"],
                baseline_name="smaller size",
                status=PASS if flat else MISS,
            )
        )
