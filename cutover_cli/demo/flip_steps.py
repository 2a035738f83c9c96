"""The end of `make demo` (the seed migration): shadow reads with zero mismatches, flip to v3,
read back, roll back. Seed-only: it reads through the seed's example API (`app_handlers`).

Reads go through the real handler (`api.handle`) with API Gateway REST events, exactly as the
Lambda receives them. Raises CutoverError if shadow finds a mismatch or the interlock refuses v3.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools import Logger

from app_handlers.api import SOURCE_HEADER, handle
from app_handlers.context import AppConfig, AppContext, build_context
from app_handlers.telemetry import SHADOW_ERROR, SHADOW_MISMATCH, V3_FALLBACK
from controlplane.evidence import Stores
from controlplane.flag import ReadSource
from controlplane.gate import Thresholds
from cutover.clients import Clients
from cutover.codec import from_ddb
from cutover.errors import CutoverError
from cutover.settings import Settings
from cutover_cli.http_bridge import to_event

Step = tuple[str, str]
SAMPLE = 25
# The demo's shadow phase is seconds long and reads a sample: it lowers the gate's shadow minimums
# (an override the flip records with the demo's reason), while every comparison it made, and no
# mismatch, is still checked from the evidence the API recorded (controlplane.gate_shadow).
DEMO_SHADOW_SECONDS, DEMO_SHADOW_KEYS = 0.0, 1


def run_cutover(
    settings: Settings,
    clients: Clients,
    echo: Callable[[str], None],
    sample: int = SAMPLE,
    accept_quarantine: bool = True,
    must_read: tuple[str, ...] = (),
) -> list[Step]:
    """Run the cut-over and return (step, outcome) pairs, echoing each as it happens.

    The demo seeds deliberately bad legacy records, which sit in quarantine by design, so by
    default the open quarantine is accepted (and said so); every other interlock rule applies.
    `must_read`: user ids whose profile and orders are read in every mode besides the sample, and
    must be answered 200 (the demo's users holding binaries and sets).
    """
    stores, steps = Stores.build(settings, clients), []
    thresholds = Thresholds(accept_quarantine=accept_quarantine)

    def step(name: str, outcome: str) -> None:
        steps.append((name, outcome))
        echo(f"{name}: {outcome}")

    required = [f"/users/{quote(uid, safe='')}{tail}" for uid in must_read for tail in ("", "/orders")]
    paths = list(dict.fromkeys([*required, *_sample_paths(settings, clients, sample)]))
    step("flip shadow", _flip(stores, ReadSource.SHADOW, thresholds))
    ctx = _context(settings, clients)
    shadow = _serve(ctx, paths)
    _require_ok(shadow, required, "shadow")
    bad = ctx.telemetry.counts[SHADOW_MISMATCH] + ctx.telemetry.counts[SHADOW_ERROR]
    if bad:
        raise CutoverError(
            f"shadow reads found {bad} mismatch(es)/error(s) between legacy and v3 (logged above): "
            "run `cutover reconcile`; the flag stays shadow (roll back with `cutover flip legacy`)"
        )
    ctx.shadow.drain()  # the recorder's last counts reach the API table before the gate reads them
    step("shadow reads", f"{len(paths)} requests ({_statuses(shadow)}), 0 mismatches")
    open_items = stores.quarantine.count_open()
    accepted = f" (accepting {open_items} open quarantined item(s))" if open_items and accept_quarantine else ""
    step("flip v3", _flip(stores, ReadSource.V3, _demo_shadow(thresholds)) + accepted)
    ctx = _context(settings, clients)
    v3 = _serve(ctx, paths)
    _require_ok(v3, required, "v3")
    changed = [p for p in paths if shadow[p][0] != v3[p][0] or shadow[p][1] != v3[p][1]]
    if changed:
        raise CutoverError(
            f"v3 served {len(changed)} answer(s) that differ from legacy's, e.g. GET {changed[0]}: "
            "roll back with `cutover flip legacy` (runbooks/rollback.md)"
        )
    served = Counter(source for _, _, source in v3.values())
    step(
        "v3 reads",
        f"{len(paths)} requests ({_statuses(v3)}), served by v3: {served['v3']}, "
        f"fell back to legacy: {ctx.telemetry.counts[V3_FALLBACK]}, same answers as legacy",
    )
    step("rollback", _flip(stores, ReadSource.LEGACY, thresholds))
    return steps


def _demo_shadow(thresholds: Thresholds) -> Thresholds:
    return dataclasses.replace(thresholds, min_shadow_seconds=DEMO_SHADOW_SECONDS, min_shadow_keys=DEMO_SHADOW_KEYS)


def _flip(stores: Stores, target: ReadSource, thresholds: Thresholds) -> str:
    from cutover_cli.demo.migration import flip_to

    return flip_to(stores, target, thresholds)


def _context(settings: Settings, clients: Clients) -> AppContext:
    """A fresh handler context (a cold start): it sees the flag as just flipped, no cache."""
    logger = Logger(service=settings.service, level="WARNING")
    return build_context(AppConfig.from_settings(settings, cache_seconds=0), clients, logger=logger, shadow_timeout=2.0)


def _sample_paths(settings: Settings, clients: Clients, limit: int) -> list[str]:
    config = AppConfig.from_settings(settings)  # the seed API's view: its users and orders tables
    users_table, orders_table = config.users_table, config.orders_table
    users = [from_ddb(i) for i in clients.dynamodb.scan(TableName=users_table, Limit=limit).get("Items", [])]
    orders = [from_ddb(i) for i in clients.dynamodb.scan(TableName=orders_table, Limit=limit).get("Items", [])]
    paths = [f"/users/{quote(str(u['userId']), safe='')}" for u in users]
    paths += [
        f"/users?email={quote(u['email'])}" for u in users if isinstance(u.get("email"), str) and u["email"].strip()
    ]
    paths += [f"/users/{quote(str(o['userId']), safe='')}/orders" for o in orders if isinstance(o.get("userId"), str)]
    paths.append("/users/no-such-user-demo")
    return list(dict.fromkeys(paths))


def _serve(ctx: AppContext, paths: list[str]) -> dict[str, tuple[int, Any, str]]:
    out = {}
    for path in paths:
        response = handle(to_event("GET", path, {}, None), None, ctx)
        headers = response.get("multiValueHeaders") or {}
        source = (headers.get(SOURCE_HEADER) or [""])[0] or (response.get("headers") or {}).get(SOURCE_HEADER, "")
        out[path] = (response["statusCode"], json.loads(response["body"]), source)
    return out


def _require_ok(results: dict[str, tuple[int, Any, str]], paths: list[str], mode: str) -> None:
    failed = [f"GET {p} -> {results[p][0]}" for p in paths if results[p][0] != 200]
    if failed:
        raise CutoverError(f"{mode} reads of the seeded binary/set items failed: {', '.join(failed)}")


def _statuses(results: dict[str, tuple[int, Any, str]]) -> str:
    counts = Counter(status for status, _, _ in results.values())
    return ", ".join(f"{n}x{status}" for status, n in sorted(counts.items()))
