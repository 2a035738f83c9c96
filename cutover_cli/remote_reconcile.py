"""`cutover reconcile --remote`: the deployed reconcile state machine, followed to its report.

The merge step records the report the flip gate reads (as a local run does); once the execution
has SUCCEEDED this reads that report back, and writes the run's differences to --report from the
chunks the segment Lambdas stored, a chunk at a time.
"""

from __future__ import annotations

import json
import os
from typing import Any

import click

from cutover.errors import ConfigError
from cutover.tables import Tables
from cutover_cli._common import Runtime
from cutover_cli.app import EXIT_FINDING, EXIT_INTERRUPTED
from cutover_cli.progress.backfill import make_progress
from cutover_cli.remote import (
    check_run_id,
    detach_line,
    failure_line,
    follow,
    global_flags,
    new_run_id,
    start_or_attach,
    state_machine_arn,
)
from cutover_cli.remote_watch import ReconcileWatch
from reconciler.partials import RunStore, max_segments, report_from_dict
from reconciler.report import ReconcileReport, json_default


def run_remote(
    rt: Runtime,
    segments: int,
    sample: float | None,
    repair: bool,
    run_id: str | None,
    report_path: str | None,
    *,
    bars: bool,
) -> tuple[ReconcileReport, str]:
    """Start (or re-attach to) the run and follow it; (its report, the execution ARN) once SUCCEEDED."""
    most = max_segments(rt.settings.names.roles)
    if segments > most:
        raise ConfigError(f"--segments {segments}: a remote run of this migration takes at most {most} per table")
    run_id = check_run_id(run_id or new_run_id())
    tables = Tables.from_names(rt.settings.names)
    sfn = rt.clients.client("stepfunctions")
    machine = state_machine_arn(rt.settings, rt.clients, "reconcile")
    payload = {"run_id": run_id, "segments": segments, "sample": sample, "repair": repair}
    execution = start_or_attach(sfn, machine, run_id, payload, "reconcile")
    reattach = (
        f"cutover reconcile --remote --run-id {run_id} --segments {segments}"
        + (f" --sample {sample:g}" if sample else "")
        + (" --repair" if repair else "")
        + f" {global_flags(rt.settings)}"
    )
    if not rt.as_json:
        how = "attached to" if execution.attached else "started"
        click.echo(f"reconcile run {run_id} on AWS: {how} execution {execution.arn}", err=True)
    with make_progress(bars) as progress:
        watch = ReconcileWatch(rt.clients.dynamodb, tables, run_id, progress)
        try:
            follow(sfn, [execution], watch)
        except KeyboardInterrupt:
            click.echo(detach_line([execution], reattach), err=True)
            raise SystemExit(EXIT_INTERRUPTED) from None
    if execution.status != "SUCCEEDED":
        line = failure_line(sfn, execution)
        if rt.as_json:
            click.echo(
                json.dumps(
                    {"run_id": run_id, "execution_arn": execution.arn, "status": execution.status, "error": line}
                )
            )
        click.echo(f"error: {line}; resume with: {reattach}", err=True)
        raise SystemExit(EXIT_FINDING)
    store = RunStore(rt.clients.dynamodb, tables.reports, run_id)
    stored = store.report()
    if stored is None:
        raise ConfigError(
            f"reconcile run {run_id} SUCCEEDED but stored no report in {tables.reports}: see {execution.arn}"
        )
    report = report_from_dict(stored)
    if report_path:
        _write_differences(store, report_path, stored)
        report.report_path = report_path
    return report, execution.arn


def _write_differences(store: RunStore, path: str, summary: dict[str, Any]) -> None:
    """The same file shape as a local run's: {"differences": [...], "summary": {...}}, streamed."""
    parts = store.parts()
    tmp = f"{path}.partial"
    with open(tmp, "w", encoding="utf-8") as out:
        out.write('{\n"differences": [\n')
        for n, diff in enumerate(store.differences(parts)):
            out.write(("" if n == 0 else ",\n") + json.dumps(diff, sort_keys=True, default=json_default))
        out.write('\n],\n"summary": ' + json.dumps(summary, sort_keys=True, default=json_default) + "\n}\n")
    os.replace(tmp, path)
