"""`cutover check`: prove a migration definition with generated legacy items before anything runs."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from cutover_cli._common import Runtime, common_options
from cutover_cli.app import EXIT_FINDING


@click.command("check")
@click.option(
    "--examples",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Generated items per transform (and batches for the key-uniqueness property).",
)
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Hypothesis seed, to repeat a run exactly.")
@common_options
def command(rt: Runtime, examples: int, seed: int | None) -> None:
    """Prove the migration definition (--migration, as every command reads it) with generated
    legacy items before anything runs: each transform is deterministic and pure, raises only
    TransformError for bad input, and returns items the target can hold (key and index key types,
    no `_` attributes, under 400 KB); distinct source items never share a target key; declared
    inverses round-trip. Exit 1 with the property and the shrunk item if one does not hold."""
    from cutover.migration_loader import load_migration, resolve_spec  # the definition is read once, here
    from cutover_cli.definition_check import check

    spec = rt.requested.migration
    migration = load_migration(spec)
    service, stage = rt.requested.service, rt.requested.stage
    show_progress = not rt.as_json and sys.stderr.isatty()
    started = time.monotonic()
    report = check(migration, examples, seed, _progress if show_progress else None)
    if show_progress:
        click.echo("\r" + " " * 60 + "\r", err=True, nl=False)
    data = report.to_dict()
    data["seconds"] = round(time.monotonic() - started, 2)
    data["target"] = migration.target_table(service, stage)

    def human() -> None:
        roles = ", ".join(migration.roles)
        click.echo(f"migration {migration.name}: {roles} -> {data['target']} (seed {report.seed})")
        for role, stats in report.sources.items():
            if role in report.completed:
                click.echo(_line(role, stats.to_dict()))
        if "batches" in report.completed:
            click.echo(
                f"  {'batches':<12}{report.batches:>5} lists   {report.batch_items:>6} items   target keys unique"
            )
        if report.failure is None:
            inverses = ", ".join(i.kind for i in migration.inverses) or "none declared"
            click.echo(f"every property holds ({data['seconds']} s); inverses: {inverses}")
        else:
            for line in report.failure.lines():
                click.echo(line)
            again = resolve_spec(spec).spec
            click.echo(f"repeat with: cutover check --migration {again} --examples {examples} --seed {report.seed}")

    rt.emit(data, human)
    if report.failure is not None:
        raise SystemExit(EXIT_FINDING)


def _line(role: str, stats: dict[str, Any]) -> str:
    """One transform's figures, within 80 columns."""
    line = (
        f"  {role[:12]:<12}{stats['examples']:>5} examples{stats['items']:>7} items{stats['rejected']:>6} rejected"
        f"{stats['not_migrated']:>5} not migrated"
    )
    return line[:80]


def _progress(what: str, done: int, total: int) -> None:
    if done == 1 or done % 20 == 0 or done == total:
        click.echo(f"\rchecking {what[:20]}: {min(done, total)}/{total} examples", err=True, nl=False)
