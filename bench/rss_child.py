"""Run one reconcile in this (child) process and print its time, counts and peak RSS as JSON.

The bench starts this with `python -m bench.rss_child` so the peak RSS it reports is the
reconciler's alone: the servers, their tables and the harness live elsewhere. It also counts what
the reconcile read, from botocore's `after-call` events on its DynamoDB client: requests and items
returned per read operation (Scan, BatchGetItem, GetItem, Query), so "reads per item" is measured,
not assumed; and its own CPU time (getrusage: user + system).
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


READS = ("Scan", "BatchGetItem", "GetItem", "Query")


class ReadCounter:
    """Requests and items returned per read operation (thread-safe enough: one lock)."""

    def __init__(self) -> None:
        import threading

        self.lock = threading.Lock()
        self.requests: dict[str, int] = dict.fromkeys(READS, 0)
        self.items: dict[str, int] = dict.fromkeys(READS, 0)
        self.units: dict[str, float] = dict.fromkeys(READS, 0.0)  # ConsumedCapacity the engine reported

    @staticmethod
    def ask_capacity(params, model, **_) -> None:
        """Every read asks for ConsumedCapacity (TOTAL): on dynalite (like AWS) it is size-based read units."""
        if model.name in READS:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def __call__(self, model, parsed, **_) -> None:
        if model.name not in READS:
            return
        if model.name == "BatchGetItem":
            n = sum(len(v) for v in parsed.get("Responses", {}).values())
        elif model.name == "GetItem":
            n = 1 if "Item" in parsed else 0
        else:
            n = len(parsed.get("Items", []))
        consumed = parsed.get("ConsumedCapacity") or []
        units = sum(float(c.get("CapacityUnits", 0)) for c in (consumed if isinstance(consumed, list) else [consumed]))
        with self.lock:
            self.requests[model.name] += 1
            self.items[model.name] += n
            self.units[model.name] += units


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--segments", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--dynamodb-endpoint-url", default=None)
    parser.add_argument("--method", default="auto")
    args = parser.parse_args(argv)

    from bench.harness import as_dict  # also sets placeholder credentials for the local endpoint
    from cutover.clients import Clients
    from cutover.settings import Settings
    from reconciler.run import run_reconcile

    settings = Settings(
        service=args.service,
        stage=args.stage,
        region="us-east-1",
        endpoint_url=args.endpoint_url,
        dynamodb_endpoint_url=args.dynamodb_endpoint_url,
    )
    clients = Clients(settings)
    reads = ReadCounter()
    clients.dynamodb.meta.events.register("provide-client-params.dynamodb", ReadCounter.ask_capacity)
    clients.dynamodb.meta.events.register("after-call.dynamodb", reads)
    after_imports = peak_rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    report = run_reconcile(settings, clients, segments=args.segments, workers=args.workers, method=args.method)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    json.dump(
        {
            "seconds": seconds,
            "peak_rss_mb": peak_rss_mb(),
            "rss_after_imports_mb": after_imports,
            "cpu_seconds": cpu,
            "read_requests": reads.requests,
            "read_items": reads.items,
            "read_units": reads.units,
            "report": as_dict(report),
        },
        sys.stdout,
        default=str,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
