"""Shared harness pieces: the result record, the backend, isolated namespaces, the table printer.

Each bench gets its own `Settings` (a unique service name) on the shared servers, so benches never
see each other's items, and it deletes its tables afterwards so the engine's memory stays flat.
A context has one DynamoDB engine: moto (everything on the moto server) or dynalite (DynamoDB on
dynalite, Streams/SSM/SQS still on moto); the engine-specific benches (backfill, reconcile) run once
per engine and file their figures and details under it.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")

from cutover.clients import Clients
from cutover.settings import Settings
from cutover_cli.local_backend import init_backend

PASS, MISS, NOT_AVAILABLE, INFO = "PASS", "MISS", "not available", "info"
WRONG = "WRONG RESULT"  # the code under test was fast but its output was not exact


@dataclass
class Figure:
    """One printed row: what was measured, against what, and whether the target was met."""

    bench: str
    name: str
    measured: float | None
    unit: str
    target: str = ""
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None
    status: str = INFO
    note: str = ""
    engine: str = ""  # the DynamoDB engine it ran on

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BenchContext:
    """What every bench receives: the endpoint, sizes and a place to put figures and details."""

    endpoint_url: str
    items: int
    quick: bool
    reconcile_items: int | None = None  # smaller reconcile size (the larger is 4x); default `items`
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    engine: str = "moto"
    dynamodb_endpoint_url: str | None = None  # dynalite's, when engine == "dynalite"
    reconcile_sizes: tuple[int, ...] = ()  # explicit reconcile sizes (default: reconcile_items and 4x)

    def add(self, figure: Figure) -> Figure:
        figure.engine = figure.engine or self.engine
        self.figures.append(figure)
        return figure

    def detail(self, bench: str, value: dict[str, Any] | None = None) -> dict[str, Any]:
        """This engine's details for `bench` (set them with `value`): details[bench][engine]."""
        per_engine = self.details.setdefault(bench, {})
        if value is not None:
            per_engine[self.engine] = value
        return per_engine.get(self.engine, {})

    def settings(self, service: str) -> Settings:
        return Settings(
            service=service,
            stage="dev",
            region="us-east-1",
            endpoint_url=self.endpoint_url,
            dynamodb_endpoint_url=self.dynamodb_endpoint_url,
        )

    @contextmanager
    def namespace(self, label: str, *, init: bool = True) -> Iterator[tuple[Settings, Clients]]:
        """A fresh service namespace with every cutover resource; tables dropped on exit."""
        settings = self.settings(f"b{label[:6]}{uuid.uuid4().hex[:6]}")
        clients = Clients(settings)
        if init:
            init_backend(settings, clients)
        try:
            yield settings, clients
        finally:
            drop_tables(clients, settings.names.prefix)


def quiet_server_logs() -> None:
    """moto's werkzeug server logs every request to stderr; a bench makes hundreds of thousands."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def as_dict(obj: Any) -> dict[str, Any]:
    """A result object (dataclass, `.to_dict()`, dict) as a JSON-able dict, whatever its shape."""
    import dataclasses

    if obj is None:
        return {}
    for method in ("to_dict", "as_dict"):
        if callable(getattr(obj, method, None)):
            return getattr(obj, method)()
    if isinstance(obj, dict):
        return obj
    if dataclasses.is_dataclass(obj):
        return dataclasses.asdict(obj)
    return {k: v for k, v in vars(obj).items() if not k.startswith("_")}


def find_number(data: Any, *names: str) -> float | None:
    """The first numeric value under any of `names`, searched depth-first through nested dicts."""
    if isinstance(data, dict):
        for name in names:
            value = data.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        for value in data.values():
            found = find_number(value, *names)
            if found is not None:
                return found
    return None


def drop_tables(clients: Clients, prefix: str) -> None:
    """Free moto's memory: delete every table of a namespace (best effort)."""
    ddb = clients.dynamodb
    for name in ddb.list_tables(Limit=100).get("TableNames", []):
        if name.startswith(prefix):
            try:
                ddb.delete_table(TableName=name)
            except Exception:  # noqa: BLE001 - cleanup must not hide the bench's own result
                pass


def ratio_figure(
    bench: str,
    name: str,
    measured: float | None,
    baseline: float | None,
    *,
    unit: str,
    baseline_name: str,
    target_ratio: float | None = None,
    target_min: float | None = None,
    target_max: float | None = None,
    target: str = "",
    note: str = "",
) -> Figure:
    """A figure whose PASS/MISS comes from a ratio to the baseline and/or an absolute bound."""
    ratio = (measured / baseline) if measured is not None and baseline else None
    checks: list[bool] = []
    if target_ratio is not None:
        checks.append(ratio is not None and ratio >= target_ratio)
    if target_min is not None:
        checks.append(measured is not None and measured >= target_min)
    if target_max is not None:
        checks.append(measured is not None and measured < target_max)
    status = (PASS if all(checks) else MISS) if checks else INFO
    if measured is None:
        status = NOT_AVAILABLE
    return Figure(bench, name, measured, unit, target, baseline, baseline_name, ratio, status, note)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def cpu_timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall seconds, this process's CPU seconds: every thread, user + system).

    The servers (moto in its child process, dynalite in node) are other processes, so this is the
    client's CPU alone; time.process_time is what getrusage(RUSAGE_SELF) reports, user + sys."""
    cpu = time.process_time()
    result, wall = timed(fn)
    return result, wall, time.process_time() - cpu


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"
    return f"{text} {unit}".strip()


def render_table(figures: list[Figure]) -> str:
    """A plain-text table: one line per figure, widths fitted to the content."""
    rows = [("bench", "engine", "figure", "target", "measured", "baseline", "ratio", "result")]
    for f in figures:
        base = f"{fmt(f.baseline)} ({f.baseline_name})" if f.baseline is not None else (f.baseline_name or "-")
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "-"
        row = (f.bench, f.engine or "-", f.name, f.target or "-", fmt(f.measured, f.unit), base, ratio, f.status)
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  * {f.bench}/{f.engine}/{f.name}: {f.note}" for f in figures if f.note]
    return "\n".join(lines + ([""] + notes if notes else []))


def sum_numbers(data: Any, name: str) -> float | None:
    """Sum every numeric `name` anywhere in nested dicts/lists (e.g. `written` over per-table counts)."""
    total, seen = 0.0, False
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            value = node.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                total, seen = total + value, True
            stack.extend(v for k, v in node.items() if k != name)
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return total if seen else None


def count_items(client: Any, table: str, *, live_only: bool = False) -> int:
    """Item count by a paginated Select=COUNT scan; `live_only` leaves out v3 tombstones (`_deleted`)."""
    kwargs: dict[str, Any] = {"TableName": table, "Select": "COUNT"}
    if live_only:
        kwargs.update(FilterExpression="attribute_not_exists(#d)", ExpressionAttributeNames={"#d": "_deleted"})
    total = 0
    while True:
        resp = client.scan(**kwargs)
        total += resp["Count"]
        if "LastEvaluatedKey" not in resp:
            return total
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


TARGET_CPU_RATIO = 1.3  # client CPU per item at most 1.3x a bare conditional PutItem's


def cpu_figure(bench: str, measured_ms: float, ceiling: dict, note: str) -> Figure:
    """Client CPU per item (this process's CPU time / items) beside the bare conditional-put loop's."""
    base = ceiling["cpu_ms_per_item"]
    ratio = measured_ms / base if base else None
    return Figure(
        bench,
        "client CPU per item",
        measured_ms,
        "ms",
        target=f"<= {TARGET_CPU_RATIO:g}x bare cond. PutItem",
        baseline=base,
        baseline_name="bare cond. PutItem loop, CPU/item",
        ratio=ratio,
        status=PASS if ratio is not None and ratio <= TARGET_CPU_RATIO else MISS,
        note=note,
    )
