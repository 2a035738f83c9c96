"""Run one reconcile in this (child) process and print its time, counts and peak RSS as JSON.

The bench starts this with `python -m bench.rss_child` so the peak RSS it reports is the
reconciler's alone: the moto server, its tables and the harness live in the parent.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path


def peak_rss_mb() -> float:
    """Peak resident memory of THIS process image, in MB.

    /proc/self/status VmHWM is per address space, so it starts afresh at exec. ru_maxrss does
    not: Linux carries the parent's RSS at fork into the child's maxrss, which here would count
    the parent's moto server. ru_maxrss is only the fallback off Linux.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--segments", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)

    from bench.harness import as_dict  # also sets placeholder credentials for the local endpoint
    from cutover.clients import Clients
    from cutover.settings import Settings
    from reconciler.run import run_reconcile

    settings = Settings(service=args.service, stage=args.stage, region="us-east-1", endpoint_url=args.endpoint_url)
    after_imports = peak_rss_mb()
    start = time.perf_counter()
    report = run_reconcile(settings, Clients(settings), segments=args.segments, workers=args.workers)
    seconds = time.perf_counter() - start
    json.dump(
        {
            "seconds": seconds,
            "peak_rss_mb": peak_rss_mb(),
            "rss_after_imports_mb": after_imports,
            "report": as_dict(report),
        },
        sys.stdout,
        default=str,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
