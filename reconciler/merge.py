"""The first and last steps of a reconcile run on AWS: `begin` (when, and what held then) and `merge`.

`begin` stores the run's header once: its start time and `evidence_at_start`, exactly what a local
run records at its start, so the flip gate judges a remote run the way it judges a local one; a
resumed run keeps its first header. It returns the distributed map's items (part x segment).
`merge` runs after every segment finished: it adds the parts' counts, runs the quarantine sweep
(as a local run does after its scans), and records ONE report with
`ReportStore.record(RECONCILE, ..., at=started_at)` through `reconciler.run.record_report`.

Lambda event: {"step": "begin", "run_id", "segments", "sample", "repair"} | {"step": "merge", "run_id"}.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import islice
from typing import Any

from aws_lambda_powertools import Logger

from cutover import transform_secrets
from cutover.clients import Clients
from cutover.clock import parse_iso, utc_now
from cutover.coldstart import ColdStart
from cutover.environment import RECONCILE_RUN_ENV
from cutover.errors import ConfigError, CutoverError
from cutover.settings import Settings
from cutover.state import ReportStore
from cutover.tables import Tables, source_tables_of
from reconciler.checker import Checker
from reconciler.partials import RunStore, difference_from_dict, max_segments, part_names
from reconciler.report import SHOWN, DifferenceSink, ReconcileReport
from reconciler.run import evidence_at_start, record_report
from reconciler.sweep import sweep_quarantine


class UnfinishedRunError(CutoverError):
    """merge was asked for before every part of the run finished."""


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    clients: Clients
    tables: Tables
    logger: Logger


def _build(env: dict[str, str], clients: Clients) -> Runtime:
    settings = replace(
        clients.settings,
        legacy_tables=tuple(sorted(source_tables_of(env).items())),
        migration=env.get("CUTOVER_MIGRATION") or None,
    )
    tables = Tables.from_env(env)
    transform_secrets.bind_clients(tables.migration, clients)
    if Tables.from_names(settings.names) != tables:
        raise ConfigError(
            f"reconcile-run: the environment's tables {tables} are not the names {settings.names.describe()} "
            "derived from SERVICE/STAGE: redeploy the replication stack (infra/constructs/reconcile.py)"
        )
    return Runtime(settings, Clients(settings), tables, Logger(service=env["POWERTOOLS_SERVICE_NAME"]))


cold_start: ColdStart[Runtime] = ColdStart(RECONCILE_RUN_ENV, _build)


def begin(
    settings: Settings, clients: Clients, run_id: str, segments: int, sample: float | None, repair: bool
) -> dict[str, Any]:
    """Store the header (first time only) and return {"started_at", "items"} for the map."""
    most = max_segments(settings.names.roles)
    if not 1 <= segments <= most:
        raise ConfigError(
            f"reconcile run {run_id}: segments {segments} must be 1..{most} "
            f"(the map items of {len(part_names(settings.names.roles))} parts must fit the state payload)"
        )
    store = RunStore(clients.dynamodb, settings.names.reports_table, run_id)
    header: dict[str, Any] = {
        "started_at": utc_now(),
        "evidence": evidence_at_start(settings, clients),
        "segments": segments,
        "sample": sample,
        "repair": repair,
    }
    if not store.put_header_once(header):
        header = store.header() or header
    segment_numbers = range(int(header["segments"]))
    items = [{"part": part, "segment": seg} for part in part_names(settings.names.roles) for seg in segment_numbers]
    return {"started_at": header["started_at"], "items": items}


def merge(tables: Tables, client: Any, run_id: str) -> ReconcileReport:
    """Add up the parts, sweep quarantine, record the one report the gate reads, and store it."""
    store = RunStore(client, tables.reports, run_id)
    header = store.header()
    if header is None:
        raise UnfinishedRunError(f"reconcile run {run_id} has no header: it was never begun (start it again)")
    parts = store.parts()
    expected = [(part, seg) for part in part_names(tables.roles) for seg in range(int(header["segments"]))]
    unfinished = [f"{p}#{s}" for p, s in expected if not (parts.get((p, s)) and parts[(p, s)].done)]
    if unfinished:
        raise UnfinishedRunError(
            f"reconcile run {run_id}: {len(unfinished)} segment(s) not finished ({', '.join(unfinished[:5])}): "
            "re-run `cutover reconcile --remote --run-id` to resume them"
        )
    counts: dict[str, int] = {}
    for progress in parts.values():
        for name, n in progress.counts.items():
            counts[name] = counts.get(name, 0) + n
    sweep = DifferenceSink(None)
    sweep_quarantine(Checker(client, tables, sweep, bool(header["repair"])), header["sample"])
    counts["quarantine_resolved"] = counts.get("quarantine_resolved", 0) + sweep.counts["quarantine_resolved"]
    shown = islice(store.differences(parts), SHOWN)
    started_at, finished_at = str(header["started_at"]), utc_now()
    report = ReconcileReport(
        started_at,
        finished_at,
        counts,
        header["sample"],
        f"dynamodb://{tables.reports}/{store.diff_pk}",
        bool(header["repair"]),
        _seconds(started_at, finished_at),
        [difference_from_dict(d, tables.migration) for d in shown],
    )
    report.run_id, report.evidence = run_id, dict(header["evidence"])
    record_report(ReportStore(client, tables.reports), report)
    store.put_report(report.to_dict())
    return report


def _seconds(started_at: str, finished_at: str) -> float:
    start, end = parse_iso(started_at), parse_iso(finished_at)
    return (end - start).total_seconds() if start and end else 0.0


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    rt = cold_start.get()
    step, run_id = event.get("step"), str(event.get("run_id") or "")
    if not run_id:
        raise ConfigError(f"reconcile-run event {event!r} needs a run_id")
    if step == "begin":
        sample = None if event.get("sample") is None else float(event["sample"])
        out = begin(rt.settings, rt.clients, run_id, int(event["segments"]), sample, bool(event.get("repair")))
        rt.logger.info("reconcile begin", extra={"run_id": run_id, "started_at": out["started_at"]})
        return out
    if step == "merge":
        report = merge(rt.tables, rt.clients.dynamodb, run_id)
        rt.logger.info("reconcile merged", extra=report.record())
        return {"run_id": run_id, "clean": report.clean, "counts": report.counts}
    raise ConfigError(f"reconcile-run event step {step!r} must be 'begin' or 'merge'")
