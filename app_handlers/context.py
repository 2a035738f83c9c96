"""Wiring: from settings (CLI, demo) or the Lambda environment to a ready `AppContext`.

The Lambda validates its environment at cold start (`API_ENV.validate`), never at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_lambda_powertools import Logger, Metrics

from app_handlers.ledger import Ledger
from app_handlers.legacy_source import LegacySource
from app_handlers.model_base import Connection
from app_handlers.read_source import FlagReader
from app_handlers.reads import READS, ReadService
from app_handlers.shadow_recorder import ShadowRecorder
from app_handlers.telemetry import NAMESPACE, Telemetry
from app_handlers.v3_source import V3Source
from app_handlers.writes import Writes
from controlplane.shadow_evidence import ShadowStore
from cutover.clients import Clients
from cutover.coldstart import settings_from_env
from cutover.environment import API_ENV
from cutover.errors import ConfigError
from cutover.settings import Settings
from cutover.tables import source_tables_of
from migrations.seed.transform import ORDERS, USERS

DEFAULT_CACHE_SECONDS = 10


def seed_tables(tables: Mapping[str, str], where: str) -> tuple[str, str]:
    """The users and orders tables out of {role: table}: this API is the seed migration's example
    application, so it serves exactly the seed's two source roles.

    Raises:
        ConfigError: the migration has other roles (one line naming them and what this API needs).
    """
    missing = [role for role in (USERS, ORDERS) if role not in tables]
    if missing:
        raise ConfigError(
            f"{where} has source roles {', '.join(tables) or 'none'}: the example API serves the seed migration "
            f"(roles {USERS}, {ORDERS}): run it with the seed definition (the default migration)"
        )
    return tables[USERS], tables[ORDERS]


@dataclass(frozen=True)
class AppConfig:
    users_table: str
    orders_table: str
    v3_table: str
    reports_table: str  # its flip control item is the read-source flag (controlplane.flag)
    cache_seconds: int
    settings: Settings

    @property
    def tables(self) -> tuple[str, ...]:
        """Every table the API reads or writes (what `cutover api` checks before serving)."""
        return (self.users_table, self.orders_table, self.v3_table, self.api_table)

    @property
    def api_table(self) -> str:
        """The API's claims and recent-write markers (`ledger`): named from service and stage."""
        return self.settings.names.api_table

    @classmethod
    def from_settings(cls, settings: Settings, cache_seconds: int = DEFAULT_CACHE_SECONDS) -> AppConfig:
        n = settings.names
        users, orders = seed_tables(n.source_tables(), f"migration {n.migration.name!r}")
        return cls(users, orders, n.v3_table, n.reports_table, cache_seconds, settings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], settings: Settings | None = None) -> AppConfig:
        """Raises ConfigError naming every missing or malformed variable.

        `settings` (region, local endpoints) defaults to what the environment says, as at cold start.
        """
        env = API_ENV.load(environ)
        settings = settings or settings_from_env(env, environ)
        users, orders = seed_tables(source_tables_of(env), "SOURCE_TABLES")
        return cls(
            users,
            orders,
            env["V3_TABLE"],
            env["REPORTS_TABLE"],
            int(env["READ_SOURCE_CACHE_SECONDS"]),
            settings,
        )


@dataclass
class AppContext:
    reads: ReadService
    writes: Writes
    flag: FlagReader
    telemetry: Telemetry
    shadow: ShadowRecorder  # shadow comparisons, recorded for the flip gate (drain() before reading them)


def build_context(
    config: AppConfig,
    clients: Clients | None = None,
    metrics: Metrics | None = None,
    logger: Logger | None = None,
    shadow_timeout: float = 0.25,
) -> AppContext:
    clients = clients or Clients(config.settings)
    telemetry = Telemetry(logger or Logger(service=config.settings.service), metrics)
    conn = Connection.from_clients(clients)
    legacy = LegacySource(config.users_table, config.orders_table, conn)
    flag = FlagReader(clients.dynamodb, config.reports_table, config.cache_seconds, telemetry)
    v3 = V3Source(config.v3_table, conn)
    ledger = Ledger(clients.dynamodb, config.api_table)
    shadow = ShadowRecorder(
        ShadowStore(clients.dynamodb, config.api_table), lambda: flag.values.phase, telemetry, READS
    )
    reads = ReadService(legacy, v3, flag.current, telemetry, shadow_timeout, ledger=ledger, evidence=shadow)
    writes = Writes(
        legacy,
        clients.dynamodb,
        (config.users_table, config.orders_table),
        ledger,
        normalised_lookup=v3.find_by_email,
    )
    return AppContext(reads=reads, writes=writes, flag=flag, telemetry=telemetry, shadow=shadow)


def lambda_metrics() -> Metrics:
    return Metrics(namespace=NAMESPACE)
