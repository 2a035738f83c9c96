"""`cutover status`: the cut-over on one screen."""

from __future__ import annotations

import dataclasses

import click

from controlplane.gate import POLICY, evaluate
from cutover_cli._common import Runtime, common_options


@click.command("status")
@click.option(
    "--max-age-hours",
    type=click.FloatRange(min=0),
    default=POLICY.max_age_hours,
    show_default=True,
    help="Reconcile age the v3 interlock accepts.",
)
@click.option(
    "--max-lag-seconds",
    type=click.FloatRange(min=0),
    default=POLICY.max_lag_seconds,
    show_default=True,
    help="Replication lag the v3 interlock accepts.",
)
@click.option(
    "--stalled-after",
    type=click.FloatRange(min=1),
    default=300,
    show_default=True,
    help="Seconds without a report after which a consumer (sync or the Lambda) is shown as stalled.",
)
@common_options
def command(rt: Runtime, max_age_hours: float, max_lag_seconds: float, stalled_after: float) -> None:
    """Show the read-source flag, replication lag and positions, the last backfill and reconcile,
    the quarantine, recent flips, and whether a flip to v3 would be allowed now (and why not)."""
    from backfill.lease import current_lease
    from controlplane.evidence import Stores
    from cutover.state import BACKFILL_RUN, CheckpointStore
    from cutover_cli.render.status import is_stalled, render

    stores = Stores.build(rt.settings, rt.clients)
    data = stores.status()
    limits = dataclasses.replace(POLICY, max_age_hours=max_age_hours, max_lag_seconds=max_lag_seconds)
    data["flip_to_v3"] = evaluate("v3", stores.evidence(), limits).to_dict()
    data.update(service=rt.settings.service, stage=rt.settings.stage, tables=rt.settings.names.describe())
    data["backfill_runs"] = stores.reports.history(BACKFILL_RUN, limit=20)
    checkpoints = CheckpointStore(rt.clients.dynamodb, rt.settings.names.checkpoints_table)
    data["backfill_lease"] = current_lease(checkpoints)
    for row in data["replication"]["positions"]:
        row["stalled"] = is_stalled(row.get("updated"), stalled_after)
    rt.emit(data, lambda: render(data))
