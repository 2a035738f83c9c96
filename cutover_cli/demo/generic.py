"""`cutover demo --migration M` for any definition other than the seed: the same lifecycle on
items generated from the definition (`generated`), without the seed-only steps.

The plan: backend, init (legacy tables without streams), seed generated items, streams on, live
sync with a writer while backfill copies the history, drain, the end-of-run check, quarantine
(one item fixed at the source and re-driven), reconcile (must be clean), then flip shadow, v3
and roll back. The seed demo's reads through its example API have no counterpart for another
definition's application: they are skipped with a printed note.
"""

from __future__ import annotations

import dataclasses
import time

from controlplane.evidence import Stores
from controlplane.flag import ReadSource
from controlplane.gate import Thresholds
from cutover.batch_write import batch_write
from cutover.codec import to_ddb
from cutover.errors import CutoverError
from cutover_cli.demo.context import DemoContext
from cutover_cli.demo.generated import Generated, GeneratedWriter, generate, good_fix
from cutover_cli.demo.migration import flip_to, reconcile
from cutover_cli.demo.steps import Step, Writer, check_v3, drain, enable_streams, init, live, start_backend
from replicator.poller.sync import run_sync
from replicator.redrive import Redriver

API_NOTE = "skipped: the example API serves the seed migration only"


class DemoRedriveFailed(CutoverError):
    """A quarantined item fixed at the source did not re-drive (a finding: exit 1)."""

    exit_code = 1


def seed(ctx: DemoContext) -> None:
    """Legacy items generated from the definition (its strategies), a few of them bad, via BatchWriteItem."""
    names = ctx.settings.names
    started = time.monotonic()
    data = generate(names.migration, ctx.options.items, ctx.options.seed)
    written = 0
    for role, items in data.items.items():
        written += batch_write(ctx.clients.dynamodb, names.source_table(role), list(items.values()))
    ctx.data.update(generated=data, make_writer=_writer)
    ctx.row("seed", "legacy items written (BatchWriteItem)", written)
    ctx.row("seed", "per source role", ", ".join(f"{role} {len(items):,}" for role, items in data.items.items()))
    ctx.row("seed", "of which bad (must be quarantined)", sum(data.bad.values()))
    ctx.say(
        f"  {written:,} items generated from migration {names.migration.name!r} in {time.monotonic() - started:.1f}s"
    )


def _writer(ctx: DemoContext) -> Writer:
    names = ctx.settings.names
    return GeneratedWriter(
        ctx.clients.dynamodb,
        names.source_tables(),
        names.migration,
        ctx.data["generated"],
        ctx.rng,
        ctx.options.writes_per_second,
    )


def quarantine(ctx: DemoContext) -> None:
    """Fix one quarantined item at the source and re-drive it (`cutover quarantine redrive`)."""
    names = ctx.settings.names
    migration = names.migration
    data: Generated = ctx.data["generated"]
    redriver = Redriver(ctx.clients.dynamodb, names)
    entries = sorted(redriver.quarantine.entries(), key=lambda e: (e.source, e.key))
    by_role = {role: sum(e.source == role for e in entries) for role in names.roles}
    ctx.row("quarantine", "open entries by source role", ", ".join(f"{r} {n:,}" for r, n in by_role.items()))
    fixable = [e for e in entries if e.source in names.roles and not e.key.startswith("<no key")]
    if not fixable:
        ctx.row("quarantine", "re-drive", "nothing to re-drive")
        return
    entry = fixable[0]
    key = migration.parse_source_key(entry.source, entry.key)
    fixed = good_fix(migration, entry.source, data, key)
    if fixed is None:
        ctx.row("quarantine", "re-drive", f"no good attributes for {entry.source} {entry.key}: left quarantined")
        return
    ctx.clients.dynamodb.put_item(TableName=names.source_table(entry.source), Item=to_ddb(fixed))
    data.items[entry.source][migration.source_key(entry.source, fixed)] = fixed
    result = redriver.redrive(entry)
    ctx.row("quarantine", f"fixed {entry.source} {entry.key} at the source, re-driven", result.outcome.value)
    if not result.outcome.resolved:
        raise DemoRedriveFailed(
            f"re-driving {entry.source} {entry.key} after fixing it gave {result.outcome.value}: {result.detail}"
        )
    drained = run_sync(ctx.settings, ctx.clients, once=True)  # the fix's stream record: already current
    ctx.row("quarantine", "stream records applied after the fix", drained.applied)


def flips(ctx: DemoContext) -> None:
    """`cutover flip shadow` -> `flip v3` (the interlock checks the evidence) -> `flip legacy` (rollback)."""
    run_sync(ctx.settings, ctx.clients, once=True)  # fresh positions: the interlock checks lag
    stores = Stores.build(ctx.settings, ctx.clients)
    thresholds = Thresholds(accept_quarantine=True)  # the demo's bad items are quarantined by design

    def step(name: str, outcome: str) -> None:
        ctx.row("cut-over", name, outcome)
        ctx.say(f"  {name}: {outcome}")

    step("flip shadow", flip_to(stores, ReadSource.SHADOW, thresholds))
    step("shadow reads", API_NOTE)
    open_items = stores.quarantine.count_open()
    accepted = f" (accepting {open_items} open quarantined item(s))" if open_items else ""
    # no application, so no shadow comparisons: the shadow minimums are an override, recorded with the
    # demo's reason (a mismatch would still refuse: none can be recorded without an application)
    no_reads = dataclasses.replace(thresholds, min_shadow_seconds=0.0, min_shadow_keys=0)
    step("flip v3", flip_to(stores, ReadSource.V3, no_reads) + accepted)
    step("v3 reads", API_NOTE)
    step("rollback", flip_to(stores, ReadSource.LEGACY, thresholds))


GENERIC_STEPS: list[Step] = [
    start_backend,
    init,
    seed,
    enable_streams,
    live,
    drain,
    check_v3,
    quarantine,
    reconcile,
    flips,
]
