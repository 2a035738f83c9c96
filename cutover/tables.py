"""The table names one reconciler/run run touches, resolved once at the edge.

The CLI resolves them from `Settings.names`; the segment Lambda from its validated environment.
Everything inward takes a `Tables` value, so no inner function knows where names came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cutover.errors import NotFoundError, UnknownTableError
from cutover.names import ORDERS, SOURCES, USERS, Names


@dataclass(frozen=True)
class Tables:
    users: str
    orders: str
    v3: str
    quarantine: str
    checkpoints: str
    reports: str

    @classmethod
    def from_names(cls, names: Names) -> Tables:
        return cls(
            names.users_table,
            names.orders_table,
            names.v3_table,
            names.quarantine_table,
            names.checkpoints_table,
            names.reports_table,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Tables:
        """From an environment already checked by `BACKFILL_SEGMENT_ENV.validate`."""
        return cls(
            env["USERS_TABLE"],
            env["ORDERS_TABLE"],
            env["V3_TABLE"],
            env["QUARANTINE_TABLE"],
            env["CHECKPOINTS_TABLE"],
            env["REPORTS_TABLE"],
        )

    def source_table(self, source: str) -> str:
        return {USERS: self.users, ORDERS: self.orders}[check_source(source)]


def check_source(source: str) -> str:
    if source not in SOURCES:
        raise UnknownTableError(source)
    return source


def parse_tables(value: str) -> tuple[str, ...]:
    """`users`, `orders` or `all` (CLI spelling) -> source roles."""
    return SOURCES if value == "all" else (check_source(value),)


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
            "--users-table/--orders-table for hand-named legacy tables), or run `cutover init` on a local endpoint"
        )
