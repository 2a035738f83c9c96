"""The demo's steps, in order. A step is `def step(ctx) -> None` that may append summary rows.

`STEPS` is the seed migration's demo (its users/orders data and its example API); `generic`
holds the plan for any other definition. The steps both plans share live here: the backend,
init, streams, live sync with a writer, the drain and the end-of-run check.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from cutover.errors import CutoverError
from cutover_cli.demo.check import compare_v3
from cutover_cli.demo.context import DemoContext
from cutover_cli.demo.migration import backfill, cut_over, reconcile
from cutover_cli.demo.seed import bad_items, batch_write, order, typed_items, user
from cutover_cli.demo.writer import LegacyWriter
from cutover_cli.local_backend import LocalServer, enable_legacy_streams, init_backend
from cutover_cli.progress.sync import Progress as SyncStatus
from replicator.poller.sync import SyncOptions, run_sync
from replicator.poller.sync_stats import SyncResult

Step = Callable[[DemoContext], None]


class Writer(Protocol):
    """A background legacy application the live step runs (`ctx.data["make_writer"](ctx)`)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def summary(self) -> list[tuple[str, str]]: ...


class DemoCheckFailed(CutoverError):
    """The demo found v3 out of line with the legacy tables (a finding: exit 1)."""

    exit_code = 1


def start_backend(ctx: DemoContext) -> None:
    """Start the embedded moto server unless an endpoint was given."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if ctx.settings.endpoint_url is None:
        server = LocalServer().start()
        ctx.cleanups.append(server.stop)
        ctx.settings = ctx.settings.with_endpoint(server.endpoint_url)
        ctx.row("backend", "embedded moto server (in memory)", server.endpoint_url)
    else:
        ctx.row("backend", "existing endpoint", ctx.settings.endpoint_url)


def init(ctx: DemoContext) -> None:
    """Create the tables; the legacy ones without streams, as they were before cutover was deployed."""
    created = init_backend(ctx.settings, ctx.clients, legacy_streams=False)
    ctx.say(f"  created {len(created)} tables/parameters")


def enable_streams(ctx: DemoContext) -> None:
    """Deploy day: streams on. The seeded history is in no stream; only backfill can copy it."""
    changed = enable_legacy_streams(ctx.settings, ctx.clients)
    ctx.row(
        "streams", "enabled on (history before this is only reachable by backfill)", ", ".join(changed) or "already on"
    )


def seed(ctx: DemoContext) -> None:
    """Messy legacy data, a few items the contract must quarantine and a few holding binaries and
    sets (read back through the API at cut-over), via BatchWriteItem."""
    from app_handlers.context import AppConfig  # the seed application's view: its users and orders tables

    config = AppConfig.from_settings(ctx.settings)
    opts, rng = ctx.options, ctx.rng
    users = {u["userId"]: u for u in (user(rng, i) for i in range(opts.users))}
    orders = {o["orderId"]: o for o in (order(rng, i, list(users)) for i in range(opts.orders))}
    bad_users, bad_orders = bad_items(rng)
    typed_users, typed_orders = typed_items(rng)  # not handed to the writer: they stay as seeded
    started = time.monotonic()
    n = batch_write(ctx.clients.dynamodb, config.users_table, [*users.values(), *bad_users, *typed_users])
    n += batch_write(ctx.clients.dynamodb, config.orders_table, [*orders.values(), *bad_orders, *typed_orders])
    ctx.data.update(
        users=users, orders=orders, typed_users=[u["userId"] for u in typed_users], make_writer=_seed_writer
    )
    ctx.row("seed", "legacy items written (BatchWriteItem)", n)
    ctx.row("seed", "of which bad (must be quarantined)", len(bad_users) + len(bad_orders))
    ctx.row("seed", "of which with binaries and sets (B, BS, NS, SS)", len(typed_users) + len(typed_orders))
    ctx.say(f"  {n:,} items in {time.monotonic() - started:.1f}s")


def _seed_writer(ctx: DemoContext) -> Writer:
    from app_handlers.context import AppConfig

    config = AppConfig.from_settings(ctx.settings)
    return LegacyWriter(
        ctx.clients.dynamodb,
        config.users_table,
        config.orders_table,
        ctx.data["users"],
        ctx.data["orders"],
        ctx.rng,
        ctx.options.writes_per_second,
    )


def _sync_rows(ctx: DemoContext, step: str, result: SyncResult, lag_label: str) -> None:
    data = result.as_dict()
    ctx.row(step, "stream records applied", data["applied"])
    ctx.row(step, "throughput", f"{data['records_per_s']:,.0f} records/s over {data['duration_s']:.1f}s")
    lag = data["lag_ms"]
    ctx.row(
        step,
        lag_label,
        f"{lag['p50']:,.0f} / {lag['p99']:,.0f} / {lag['max']:,.0f} ms" if lag["max"] is not None else "-",
    )


def live(ctx: DemoContext) -> None:
    """Continuous sync and a legacy writer (updates, deletes, moves) while backfill copies the history."""
    stop = threading.Event()
    results: list[SyncResult] = []
    errors: list[BaseException] = []

    def follow() -> None:
        try:
            results.append(
                run_sync(
                    ctx.settings,
                    ctx.clients,
                    once=False,
                    stop_event=stop,
                    progress=SyncStatus(enabled=True, once=False),
                    options=SyncOptions(poll_interval=0.1),
                )
            )
        except BaseException as exc:  # noqa: BLE001 - re-raised below in the demo's thread
            errors.append(exc)

    syncer = threading.Thread(target=follow, name="sync", daemon=True)
    writer: Writer = ctx.data["make_writer"](ctx)
    syncer.start()
    writer.start()
    deadline = time.monotonic() + ctx.options.live_seconds
    try:
        backfill(ctx)
        while time.monotonic() < deadline and syncer.is_alive():
            time.sleep(0.2)
    finally:
        writer.stop()
        time.sleep(1.0)  # let the follower apply the writer's last records before stopping it
        stop.set()
        syncer.join(timeout=60)
    if errors:
        raise errors[0]
    for what, value in writer.summary():
        ctx.row("live sync", what, value)
    _sync_rows(ctx, "live sync", results[0], "replication lag p50 / p99 / max")


def drain(ctx: DemoContext) -> None:
    """A final `--once` pass: whatever the follower had not applied when it stopped."""
    result = run_sync(ctx.settings, ctx.clients, once=True)
    ctx.row("drain", "stream records applied", result.applied)


def check_v3(ctx: DemoContext) -> None:
    """Every legacy item is transform(item) in v3 or quarantined; no live v3 item without a source."""
    report = compare_v3(ctx.clients.dynamodb, ctx.settings.names)
    ctx.row("v3", "live items", report.live)
    ctx.row(
        "v3",
        "  last written by backfill / replication / repair",
        f"{report.backfilled:,} / {report.replicated:,} / {report.repaired:,}",
    )
    ctx.row("v3", "tombstones (deleted or moved at the source)", report.tombstones)
    ctx.row("v3", "quarantined (open entries)", report.quarantined)
    ctx.row("v3", "legacy items matching transform(item)", f"{report.matching:,} of {report.legacy:,}")
    if report.not_migrated:
        ctx.row("v3", "of which not migrated (the transform returns no item)", report.not_migrated)
    if report.problems:
        for problem in report.problems[:5]:
            ctx.row("v3", "MISMATCH", problem)
        raise DemoCheckFailed(
            f"v3 differs from the legacy tables for {len(report.problems)} item(s), e.g. {report.problems[0]}"
        )


STEPS: list[Step] = [start_backend, init, seed, enable_streams, live, drain, check_v3, reconcile, cut_over]
