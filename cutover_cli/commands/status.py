"""`cutover status`: the cut-over on one screen."""

from __future__ import annotations

import dataclasses
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from controlplane.evidence import Stores
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
@common_options
def command(rt: Runtime, max_age_hours: float, max_lag_seconds: float) -> None:
    """Show the read-source flag, replication lag and positions, the last backfill and reconcile,
    the quarantine, recent flips, and whether a flip to v3 would be allowed now (and why not)."""
    stores = Stores.build(rt.settings, rt.clients)
    data = stores.status()
    limits = dataclasses.replace(POLICY, max_age_hours=max_age_hours, max_lag_seconds=max_lag_seconds)
    data["flip_to_v3"] = evaluate("v3", stores.evidence(), limits).to_dict()
    rt.emit(data, lambda: _render(data))


def _render(d: dict[str, Any]) -> None:
    console = Console()
    lag = d["replication"]["lag_seconds"]
    summary = Table(title=f"cutover status  ({d['read_source_parameter']})", show_header=False, title_justify="left")
    summary.add_row("read-source", f"[bold]{d['read_source'] or '(missing: apps serve legacy)'}[/]")
    summary.add_row("replication lag", "never synced" if lag is None else f"{lag:.1f} s")
    gaps = d["replication"]["gaps"]
    if gaps:
        summary.add_row("sync gaps", f"[red]{len(gaps)}[/], newest {gaps[-1].get('detected_at')}")
    summary.add_row("last backfill", _backfill(d["backfill"]))
    summary.add_row("last reconcile", _reconcile(d["reconcile"]))
    summary.add_row("quarantine (open)", str(d["quarantine_open"]))
    verdict = d["flip_to_v3"]
    summary.add_row(
        "flip to v3 now",
        "[green]allowed[/]"
        if verdict["allowed"]
        else "[red]refused[/]:\n" + "\n".join(f"- {f}" for f in verdict["failures"]),
    )
    console.print(summary)
    if d["replication"]["positions"]:
        positions = Table(
            "source", "shards done", "last sequence", "lag s", "updated", title="stream positions", title_justify="left"
        )
        for p in d["replication"]["positions"]:
            positions.add_row(
                str(p["source"]),
                f"{p['shards_done']}/{p['shards']}",
                str(p["last_sequence"]),
                str(p["lag_seconds"]),
                str(p["updated"]),
            )
        console.print(positions)
    flips = Table("at", "who", "from", "to", "forced", "reason", title="recent flips", title_justify="left")
    for f in d["flips"]:
        flips.add_row(
            str(f.get("at")),
            str(f.get("who")),
            str(f.get("from")),
            str(f.get("to")),
            "yes" if f.get("forced") else "",
            str(f.get("reason") or ""),
        )
    console.print(flips if d["flips"] else "recent flips: none")


def _backfill(run: dict[str, Any] | None) -> str:
    if not run:
        return "never run"
    tables = ", ".join(
        f"{t}: {c.get('written', 0)} written/{c.get('scanned', 0)} scanned"
        for t, c in (run.get("tables") or {}).items()
    )
    return f"{'complete' if run.get('complete') else 'INCOMPLETE'} at {run.get('finished_at')} ({tables})"


def _reconcile(rec: dict[str, Any] | None) -> str:
    if not rec:
        return "never run"
    counts = ", ".join(f"{k}={v}" for k, v in (rec.get("counts") or {}).items())
    sample = f", sample {rec['sample']}" if rec.get("sample") else ""
    return f"{'[green]clean[/]' if rec.get('clean') else '[red]NOT clean[/]'} at "
    f"{rec.get('finished_at')} ({counts}{sample})"
