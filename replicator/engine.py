"""The replicator behind the Lambda handler and local sync: config in, batches of records applied.

No Powertools and no environment reads here (except `ReplicatorConfig.from_env`, called at cold
start by the handler), so local sync can drive the very same code with Lambda-shaped events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from cutover.environment import REPLICATOR_ENV
from cutover.errors import ConfigError
from cutover.migration import Migration
from cutover.names import Names
from cutover.tables import source_tables_of
from replicator.apply import ApplyResult
from replicator.batch import BatchResult, BlockedByEarlierFailure, run_batch
from replicator.quarantine import QuarantineStore
from replicator.record_apply import RecordApplier, RecordOutcome, error_code
from replicator.stream_record import record_id
from replicator.v3_writer import V3Writer

DEFAULT_WRITE_CONCURRENCY = 16


@dataclass(frozen=True)
class ReplicatorConfig:
    source_tables: tuple[tuple[str, str], ...]  # (role, legacy table)
    v3_table: str
    quarantine_table: str
    migration: Migration = field(compare=False)
    write_concurrency: int = DEFAULT_WRITE_CONCURRENCY

    def __post_init__(self) -> None:
        if self.write_concurrency < 1:
            raise ConfigError(f"write_concurrency must be a positive integer, got {self.write_concurrency!r}")
        tables = [table for _, table in self.source_tables]
        shared = sorted({t for t in tables if tables.count(t) > 1})
        if shared:
            raise ConfigError(f"each source needs its own legacy table; {', '.join(shared)} is given to several")
        roles = {role for role, _ in self.source_tables}
        if roles != set(self.migration.roles):
            raise ConfigError(
                f"legacy tables are given for {', '.join(sorted(roles)) or 'no source'}; migration "
                f"{self.migration.name!r} has sources {', '.join(self.migration.roles)}: give one table per source"
            )

    @classmethod
    def from_names(cls, names: Names, write_concurrency: int = DEFAULT_WRITE_CONCURRENCY) -> ReplicatorConfig:
        return cls(
            tuple(names.source_tables().items()),
            names.v3_table,
            names.quarantine_table,
            names.migration,
            write_concurrency,
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ReplicatorConfig:
        """Read the Lambda environment (call at cold start, not import).

        Raises:
            ConfigError: naming every missing or malformed variable and any unresolved `${...}`.
        """
        from cutover.migration_loader import load_migration

        env = REPLICATOR_ENV.load(environ)
        migration = load_migration(env.get("CUTOVER_MIGRATION"))
        return cls(
            source_tables=tuple(source_tables_of(env).items()),
            v3_table=env["V3_TABLE"],
            quarantine_table=env["QUARANTINE_TABLE"],
            migration=migration,
            write_concurrency=int(env["WRITE_CONCURRENCY"]),
        )

    @property
    def sources(self) -> dict[str, str]:
        """Legacy table name -> source role, for parsing stream ARNs."""
        return {table: role for role, table in self.source_tables}


class Replicator:
    """Applies Lambda-shaped DynamoDB Streams events to v3. Thread pool lives as long as it does.

    `logger` is a stdlib or Powertools logger (anything with `.warning(msg, extra=...)`).
    """

    def __init__(
        self,
        config: ReplicatorConfig,
        dynamodb_client: Any,
        logger: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._applier = RecordApplier(
            V3Writer(dynamodb_client, config.v3_table, config.migration),
            QuarantineStore(dynamodb_client, config.quarantine_table, config.migration),
            config.sources,
            config.migration,
        )
        self._pool = (
            ThreadPoolExecutor(max_workers=config.write_concurrency, thread_name_prefix="replicator")
            if config.write_concurrency > 1
            else None
        )
        self._log = logger if logger is not None else logging.getLogger(__name__)
        self._clock = clock
        self._lock = threading.Lock()
        self.totals = ApplyResult()
        self.outcomes: Counter[str] = Counter()  # applied / skipped / quarantined / failed over its life

    def handle(self, event: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
        """Apply an event; return Lambda's partial batch response."""
        return {"batchItemFailures": self.process(event.get("Records") or []).failures()}

    def process(self, records: Sequence[Mapping[str, Any]]) -> BatchResult:
        """Apply records (per-key order, keys in parallel) and return every record's result."""
        batch = run_batch(records, self._applier.apply, self._pool)
        with self._lock:
            for result in batch.results:
                self.totals.add(result.applied)
                self.outcomes[result.outcome.value] += 1
        self._log_batch(batch)
        return batch

    def lag_ms(self, batch: BatchResult) -> float | None:
        return batch.max_lag_ms(self._clock())

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def __enter__(self) -> Replicator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _log_batch(self, batch: BatchResult) -> None:
        for record, result in zip(batch.records, batch.results, strict=True):
            entry = result.quarantined
            if result.outcome is RecordOutcome.QUARANTINED and entry is not None:
                self._log.warning(
                    "record quarantined",
                    extra={
                        "table": entry.table,
                        "key": entry.key,
                        "reason": entry.reason,
                        "detail": entry.detail,
                        "version": entry.version,
                    },
                )
            elif result.outcome is RecordOutcome.FAILED and not isinstance(result.error, BlockedByEarlierFailure):
                arn, seq = record_id(record)
                self._log.warning(
                    "record failed; Lambda will retry it",
                    extra={
                        "table": result.parsed.table if result.parsed else arn,
                        "key": result.parsed.change.source_key if result.parsed else None,
                        "sequence": seq,
                        "error": error_code(result.error) if result.error else None,
                        "error_message": str(result.error),
                    },
                )
