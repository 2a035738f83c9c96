"""The table names one reconciler/run run touches, resolved once at the edge.

The CLI resolves them from `Settings.names`; the segment Lambda from its validated environment.
Everything inward takes a `Tables` value, so no inner function knows where names came from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cutover.errors import NotFoundError, UnknownTableError
from cutover.migration import Migration
from cutover.names import Names


@dataclass(frozen=True)
class Tables:
    sources: tuple[tuple[str, str], ...]  # (role, legacy table), in the definition's order
    v3: str
    quarantine: str
    checkpoints: str
    reports: str
    migration: Migration = field(compare=False)

    @classmethod
    def from_names(cls, names: Names) -> Tables:
        return cls(
            tuple(names.source_tables().items()),
            names.v3_table,
            names.quarantine_table,
            names.checkpoints_table,
            names.reports_table,
            names.migration,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Tables:
        """From an environment already checked by `FunctionEnv.load` (SOURCE_TABLES is JSON)."""
        from cutover.migration_loader import load_migration

        migration = load_migration(env.get("CUTOVER_MIGRATION") or None)
        given = source_tables_of(env)
        return cls(
            tuple((role, given[role]) for role in migration.roles),
            env["V3_TABLE"],
            env["QUARANTINE_TABLE"],
            env["CHECKPOINTS_TABLE"],
            env["REPORTS_TABLE"],
            migration,
        )

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(role for role, _ in self.sources)

    def source_table(self, source: str) -> str:
        return dict(self.sources)[check_source(source, self.roles)]


def source_tables_of(env: Mapping[str, str]) -> dict[str, str]:
    """SOURCE_TABLES (`{"<role>": "<table>", ...}`) from a validated function environment."""
    return dict(json.loads(env["SOURCE_TABLES"]))


def check_source(source: str, roles: Iterable[str]) -> str:
    known = tuple(roles)
    if source not in known:
        raise UnknownTableError(source, known)
    return source


def parse_tables(value: str, roles: Iterable[str]) -> tuple[str, ...]:
    """A source role or `all` (CLI spelling) -> source roles."""
    known = tuple(roles)
    return known if value == "all" else (check_source(value, known),)


def require_tables(client: Any, tables: Iterable[str], region: str) -> None:
    """Fail before any work (and any progress bar) if a table this run needs does not exist.

    Raises:
        NotFoundError: naming every missing table, the region, and how to fix the names.
    """
    missing = []
    for name in dict.fromkeys(tables):
        try:
            client.describe_table(TableName=name)
        except client.exceptions.ResourceNotFoundException:
            missing.append(name)
    if missing:
        raise NotFoundError(
            f"table(s) {', '.join(missing)} do not exist in {region}: check --service/--stage/--region (and "
            "--legacy-table ROLE=NAME for hand-named legacy tables), or run `cutover init` on a local endpoint"
        )
