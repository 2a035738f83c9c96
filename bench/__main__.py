"""`python -m bench [--quick] [--only NAME] [--engine E] [--items N] [--size N] [--out PATH]`: run the benches.

startup (the CLI's start-up CPU beside `python -c pass`) runs first, with no backend. Then it
starts one embedded moto server (cutover_cli.local_backend.LocalServer) and, for the dynalite engine,
dynalite (DynaliteServer). transform, sync and lag run once (sync and lag need Streams: moto); the
engine benches (backfill, reconcile) run once per engine, dynalite at full size and moto at the
sizes it can take (its paged Scan walks the table from the start on every page). Each bench runs in
its own namespace; every figure and detail goes to bench/results.json, after every bench.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import INFO, MISS, NOT_AVAILABLE, PASS, BenchContext, Figure, render_table
from cutover.errors import ConfigError
from cutover_cli.local_backend import DynaliteServer

BENCHES = ("startup", "transform", "sync", "lag", "backfill", "reconcile")
SERVERLESS = ("startup",)  # needs no backend: runs first, before the servers start, on a quiet machine
ENGINE_BENCHES = ("backfill", "reconcile")  # run once per engine
ENGINES = ("dynalite", "moto")
DEFAULT_SIZES = (50_000, 200_000)  # dynalite reconcile sizes; `--size` adds more (e.g. 1,000,000)
MOTO_ITEMS = 5_000  # moto: backfill items and smaller reconcile size (the larger is 4x)
DEFAULT_OUT = Path(__file__).with_name("results.json")


def _module(name: str):
    import importlib

    return importlib.import_module(f"bench.b_{name}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test, ~15 s)")
    parser.add_argument("--only", action="append", choices=BENCHES, help="run only this bench (repeatable)")
    parser.add_argument(
        "--engine", action="append", choices=ENGINES, help="DynamoDB engine for backfill/reconcile (default both)"
    )
    parser.add_argument("--items", type=int, default=None, help="dynalite backfill items (default 50,000; quick 100)")
    parser.add_argument(
        "--size",
        type=int,
        action="append",
        default=[],
        help="an extra dynalite reconcile size, e.g. --size 1000000 (default sizes 50,000 and 200,000)",
    )
    parser.add_argument(
        "--moto-items",
        type=int,
        default=None,
        help=f"moto backfill items and smaller reconcile size, the larger is 4x (default {MOTO_ITEMS:,}; quick 100)",
    )
    parser.add_argument(
        "--reconcile-items",
        type=int,
        default=None,
        help="dynalite: smaller reconcile size; the larger is 4x (quick 2x) (default 50,000 and 200,000)",
    )
    parser.add_argument(
        "--server",
        choices=("process", "thread"),
        default="process",
        help="moto server in a child process (own core and GIL; default) or a thread of this one",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the JSON results")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")  # the replicator's per-record quarantine lines
    from bench.harness import quiet_server_logs
    from cutover_cli.local_backend import LocalServer, LocalServerProcess

    quiet_server_logs()
    from bench.data import migration

    migration()  # the definition the figures are of; one line, before any server starts, if it cannot be benched

    items = args.items or (100 if args.quick else 50_000)
    moto_items = args.moto_items or (100 if args.quick else MOTO_ITEMS)
    engines = tuple(e for e in ENGINES if e in (args.engine or ENGINES))
    started = time.perf_counter()
    results: dict = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "items": items,
        "moto_items": moto_items,
        "engines": list(engines),
        "machine": {"python": platform.python_version(), "cpus": _cpus()},
        "benches": {},
    }
    server_kind = LocalServer if args.server == "thread" else LocalServerProcess
    results["server"] = args.server
    chosen = args.only or BENCHES
    ctx = BenchContext(endpoint_url="", items=items, quick=args.quick)
    for name in (n for n in chosen if n in SERVERLESS):  # before any server starts: nothing else runs
        _run_one(ctx, args, results, started, name, "-", items, moto_items, None)
    served = [n for n in chosen if n not in SERVERLESS]
    if served:
        with server_kind() as server, ExitStack() as stack:
            ctx.endpoint_url = server.endpoint_url
            plan = [(name, "moto") for name in served if name not in ENGINE_BENCHES]
            plan += [(name, engine) for engine in engines for name in served if name in ENGINE_BENCHES]
            dynalite = _start_dynalite(stack) if any(e == "dynalite" for _, e in plan) else None
            for name, engine in plan:
                _run_one(ctx, args, results, started, name, engine, items, moto_items, dynalite)
    print(render_table(ctx.figures))
    print(f"\n{len(ctx.figures)} figures in {results['seconds']:.0f}s -> {args.out}")
    broken = [f for f in ctx.figures if f.status not in (PASS, MISS, INFO)]
    return 1 if broken else 0  # a missed target is a finding to read; a broken bench is a failure


def _run_one(
    ctx: BenchContext, args, results: dict, started: float, name: str, engine: str, items, moto_items, dynalite
) -> None:
    """One bench on one engine ("-" for a bench that needs no backend); its figures and status
    go to `results`, written to disk at once (an interrupted run keeps its figures)."""
    if engine != "-":
        _configure(ctx, args, engine, items, moto_items, dynalite)
    else:
        ctx.engine = "-"
    label = f"{name} [{engine}]" if name in ENGINE_BENCHES else name
    t0, first = time.perf_counter(), len(ctx.figures)
    print(f"== {label} ...", file=sys.stderr, flush=True)
    status = "ok"
    try:
        if engine == "dynalite" and not isinstance(dynalite, DynaliteServer):
            raise ModuleNotFoundError(f"dynalite: {dynalite}")
        _module(name).run(ctx)
    except ModuleNotFoundError as exc:
        status = f"{NOT_AVAILABLE}: {exc}"
        ctx.add(Figure(name, "(bench)", None, "", status=NOT_AVAILABLE, note=str(exc)))
    except Exception as exc:  # noqa: BLE001 - one broken bench must not hide the others
        status = f"error: {exc!r}"
        traceback.print_exc()
        ctx.add(Figure(name, "(bench)", None, "", status="ERROR", note=repr(exc)[:200]))
    key = f"{name}@{engine}" if name in ENGINE_BENCHES else name
    results["benches"][key] = {"status": status, "seconds": round(time.perf_counter() - t0, 1)}
    print(f"   {label}: {status} in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
    print(render_table(ctx.figures[first:]), file=sys.stderr, flush=True)
    _write(args.out, results, ctx, started)


def _start_dynalite(stack: ExitStack) -> DynaliteServer | str:
    """dynalite, stopped when the run ends; or why it could not start (its benches say so)."""
    try:
        return stack.enter_context(DynaliteServer())
    except ConfigError as exc:
        return str(exc)


def _configure(ctx: BenchContext, args, engine: str, items: int, moto_items: int, dynalite) -> None:
    """Point the context at one engine, with that engine's sizes."""
    ctx.engine = engine
    if engine == "dynalite":
        ctx.dynamodb_endpoint_url = dynalite.endpoint_url if isinstance(dynalite, DynaliteServer) else None
        ctx.items = items
        ctx.reconcile_items = args.reconcile_items
        base = (args.reconcile_items, args.reconcile_items * (2 if args.quick else 4)) if args.reconcile_items else ()
        if args.quick and not base:
            base = (items, items * 2)
        ctx.reconcile_sizes = tuple(sorted({*(base or DEFAULT_SIZES), *args.size}))
    else:
        ctx.dynamodb_endpoint_url = None
        ctx.items = moto_items
        ctx.reconcile_items = moto_items
        ctx.reconcile_sizes = (moto_items, moto_items * (2 if args.quick else 4))


def _write(out: Path, results: dict, ctx: BenchContext, started: float) -> None:
    results["figures"] = [f.to_dict() for f in ctx.figures]
    results["details"] = ctx.details
    results["seconds"] = round(time.perf_counter() - started, 1)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    raise SystemExit(main())
