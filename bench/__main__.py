"""`python -m bench [--quick] [--only NAME] [--items N] [--out PATH]`: run the benches, print a table.

Starts one embedded moto server (cutover_cli.local_backend.LocalServer), runs each bench in its own
namespace on it, writes every figure and detail to bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import INFO, MISS, NOT_AVAILABLE, PASS, BenchContext, Figure, render_table

BENCHES = ("transform", "sync", "lag", "backfill", "reconcile")
DEFAULT_OUT = Path(__file__).with_name("results.json")


def _module(name: str):
    import importlib

    return importlib.import_module(f"bench.b_{name}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test, ~15 s)")
    parser.add_argument("--only", action="append", choices=BENCHES, help="run only this bench (repeatable)")
    parser.add_argument(
        "--items", type=int, default=None, help="legacy items for reconciler/run (default 50,000; quick 100)"
    )
    parser.add_argument(
        "--reconcile-items",
        type=int,
        default=None,
        help="smaller reconcile size; the larger is 4x (quick 2x) (default: --items)",
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

    items = args.items or (100 if args.quick else 50_000)
    started = time.perf_counter()
    results: dict = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "items": items,
        "machine": {"python": platform.python_version(), "cpus": _cpus()},
        "benches": {},
    }
    server_kind = LocalServer if args.server == "thread" else LocalServerProcess
    results["server"] = args.server
    with server_kind() as server:
        ctx = BenchContext(
            endpoint_url=server.endpoint_url, items=items, quick=args.quick, reconcile_items=args.reconcile_items
        )
        for name in args.only or BENCHES:
            t0, first = time.perf_counter(), len(ctx.figures)
            print(f"== {name} ...", file=sys.stderr, flush=True)
            status = "ok"
            try:
                _module(name).run(ctx)
            except ModuleNotFoundError as exc:
                status = f"{NOT_AVAILABLE}: {exc}"
                ctx.add(Figure(name, "(bench)", None, "", status=NOT_AVAILABLE, note=str(exc)))
            except Exception as exc:  # noqa: BLE001 - one broken bench must not hide the others
                status = f"error: {exc!r}"
                traceback.print_exc()
                ctx.add(Figure(name, "(bench)", None, "", status="ERROR", note=repr(exc)[:200]))
            results["benches"][name] = {"status": status, "seconds": round(time.perf_counter() - t0, 1)}
            print(f"   {name}: {status} in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
            print(render_table(ctx.figures[first:]), file=sys.stderr, flush=True)
            _write(args.out, results, ctx, started)  # after every bench: an interrupted run keeps its figures
    print(render_table(ctx.figures))
    print(f"\n{len(ctx.figures)} figures in {results['seconds']:.0f}s -> {args.out}")
    broken = [f for f in ctx.figures if f.status not in (PASS, MISS, INFO)]
    return 1 if broken else 0  # a missed target is a finding to read; a broken bench is a failure


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
