"""`cutover quarantine list|redrive`: see bad legacy items and re-drive them once fixed at the source."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cutover.errors import NotFoundError
from cutover.names import Names
from cutover.tables import check_source
from cutover_cli._common import Runtime, common_options
from cutover_cli.app import EXIT_FINDING

if TYPE_CHECKING:
    from replicator.quarantine import QuarantineEntry


@click.group("quarantine")
def command() -> None:
    """Legacy items that could not be transformed (kept out of v3 until fixed and re-driven)."""


def _row(entry: QuarantineEntry) -> dict[str, str]:
    return {
        "source": entry.source,
        "key": entry.key,
        "reason": entry.reason,
        "detail": entry.detail,
        "seen": entry.seen_at,
        "origin": entry.origin,
        "status": entry.status,
        "table": entry.table,
    }


@command.command("list")
@click.option("--all", "include_resolved", is_flag=True, help="Include resolved entries.")
@common_options
def list_(rt: Runtime, include_resolved: bool) -> None:
    """List quarantined items: source role, key, reason and when they were seen, each entry's detail
    on the lines under it, at the terminal's width (80 without one); --json has every field.

    A key is the bare value for a source keyed by one string, else the canonical JSON of its key
    attributes (what `quarantine redrive --key` takes)."""
    from cutover_cli.render.quarantine import render, terminal_width
    from replicator.redrive import Redriver

    store = Redriver(rt.clients.dynamodb, rt.settings.names).quarantine
    rows = sorted(
        (_row(e) for e in store.entries(include_resolved=include_resolved)), key=lambda r: (r["source"], r["key"])
    )

    def human() -> None:
        if not rows:
            click.echo(
                "quarantine is empty" + ("" if include_resolved else " (no open entries; --all shows resolved ones)")
            )
            return
        click.echo("\n".join(render(rows, with_status=include_resolved, width=terminal_width())))

    rt.emit(rows, human)


def entry_key(names: Names, source: str, key: str) -> tuple[str, str]:
    """The (role, key text) a quarantine entry is stored under, from what the operator typed: the
    role checked against the definition, the key parsed as that source's key (one line naming the
    expected form if not) and written back in the canonical form, so spacing and attribute order
    in typed JSON do not matter."""
    role = check_source(source, names.roles)
    migration = names.migration
    return role, migration.source_key_text(role, migration.parse_source_key(role, key))


@command.command("redrive")
@click.option(
    "--source", metavar="ROLE", help="The source role of the item to re-drive (a source role of the migration)."
)
@click.option(
    "--key",
    help="The item's legacy key as `quarantine list` shows it: the bare value for a single string key, "
    'else JSON of the key attributes, e.g. \'{"id":7,"at":"2024"}\' (a binary value as {"B":"<base64>"}).',
)
@click.option("--all", "redrive_all", is_flag=True, help="Re-drive every open entry.")
@common_options
def redrive(rt: Runtime, source: str | None, key: str | None, redrive_all: bool) -> None:
    """Re-read quarantined items from the legacy table and write them to v3 if they are good now.

    Deleted at the source: resolved. Still bad: the entry's reason is updated. Exit 1 if any
    re-driven item is still quarantined.
    """
    if redrive_all == bool(source or key) or (not redrive_all and not (source and key)):
        raise click.UsageError("give either --source and --key, or --all")
    from replicator.redrive import Redriver

    names = rt.settings.names
    redriver = Redriver(rt.clients.dynamodb, names)
    if redrive_all:
        entries = list(redriver.quarantine.entries())
    else:
        assert source is not None and key is not None  # checked above
        role, text = entry_key(names, source, key)
        entry = redriver.quarantine.get(role, text)
        if entry is None or entry.status != "open":
            raise NotFoundError(f"no open quarantine entry for {role} {text!r}; see `cutover quarantine list --all`")
        entries = [entry]
    results = [redriver.redrive(e) for e in entries]
    still = [r for r in results if not r.outcome.resolved]

    def human() -> None:
        for r in results:
            click.echo(f"{r.source} {r.key}: {r.outcome.value}" + (f" ({r.reason}: {r.detail})" if r.reason else ""))
        click.echo(f"re-driven {len(results)}: {len(results) - len(still)} resolved, {len(still)} still quarantined")

    rt.emit(
        {
            "results": [r.as_dict() for r in results],
            "resolved": len(results) - len(still),
            "still_quarantined": len(still),
        },
        human,
    )
    if still:
        raise SystemExit(EXIT_FINDING)
