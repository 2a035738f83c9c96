"""Apply one raw stream record to v3 and say what happened, never raising.

The one place that decides what an error means for the shard:
- bad input (a TransformError, including an unparseable record) -> quarantine, record succeeds;
- a write DynamoDB rejects permanently (ValidationException, e.g. item over 400 KB) ->
  tombstone the v3 key it was meant for and quarantine ("write_rejected"), record succeeds:
  retrying could never succeed and would block the shard;
- anything else (throttling, service errors, connection errors, a bug) -> FAILED, so Lambda
  retries that record; the version guard makes the retry harmless.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from cutover.migration import Migration
from cutover.migration_loader import load_migration
from cutover.transform_errors import TransformError
from replicator.apply import ApplyResult, apply_plan
from replicator.changes import Plan, plan
from replicator.quarantine import QuarantineEntry, QuarantineStore, entry_for
from replicator.stream_record import (
    StreamRecord,
    UnparseableRecordError,
    fallback_version,
    parse_record,
    raw_record_item,
    table_hint,
)
from replicator.v3_writer import PERMANENT_WRITE_ERRORS, Outcome, V3Writer, WriteRejectedError


class RecordOutcome(enum.Enum):
    APPLIED = "applied"  # wrote or tombstoned at least one v3 key
    SKIPPED = "skipped"  # v3 already held this version or newer (duplicate / late delivery)
    QUARANTINED = "quarantined"
    FAILED = "failed"  # Lambda must retry it (reported in batchItemFailures)


@dataclass(frozen=True)
class RecordResult:
    outcome: RecordOutcome
    applied: ApplyResult = field(default_factory=ApplyResult)
    error: BaseException | None = None
    quarantined: QuarantineEntry | None = None
    parsed: StreamRecord | None = None


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__


class RecordApplier:
    """Applies records for the legacy tables in `sources` (table name -> source role)."""

    def __init__(
        self,
        writer: V3Writer,
        quarantine: QuarantineStore,
        sources: Mapping[str, str],
        migration: Migration | None = None,
        origin: str = "replication",
    ) -> None:
        self._writer = writer
        self._quarantine = quarantine
        self._sources = dict(sources)
        self._migration = migration or load_migration()
        self._origin = origin

    def apply(self, record: Mapping[str, Any]) -> RecordResult:
        parsed: StreamRecord | None = None
        try:
            parsed = parse_record(record, self._sources, self._migration)
            return self._apply_plan(plan(parsed.change, self._migration), parsed)
        except UnparseableRecordError as err:
            return self._quarantine_raw(err, record)
        except Exception as exc:  # noqa: BLE001 - anything unclassified is retried, never swallowed
            return RecordResult(RecordOutcome.FAILED, error=exc, parsed=parsed)

    def _apply_plan(self, the_plan: Plan, parsed: StreamRecord) -> RecordResult:
        try:
            result = apply_plan(the_plan, self._writer, self._quarantine, parsed.table, self._origin, self._migration)
        except ClientError as exc:
            if error_code(exc) not in PERMANENT_WRITE_ERRORS:
                raise
            return self._reject(the_plan, parsed, exc)
        if the_plan.quarantine is not None:
            entry = entry_for(
                the_plan.quarantine.error, parsed.table, the_plan.quarantine.raw, parsed.change.version, self._origin
            )
            return RecordResult(RecordOutcome.QUARANTINED, result, quarantined=entry, parsed=parsed)
        outcome = RecordOutcome.APPLIED if result.written or result.tombstoned else RecordOutcome.SKIPPED
        return RecordResult(outcome, result, parsed=parsed)

    def _reject(self, the_plan: Plan, parsed: StreamRecord, exc: ClientError) -> RecordResult:
        """Tombstone the keys the rejected puts were for, then quarantine the source item."""
        change = parsed.change
        result = ApplyResult()
        for put in the_plan.puts:
            key = self._migration.target_key(put.item)
            try:
                outcome = self._writer.tombstone(key, change.version, change.source_ref)
                if outcome is not Outcome.SKIPPED:
                    result.tombstoned += 1
                    result.tombstoned_live += outcome is Outcome.REPLACED_LIVE
            except ClientError as tomb_exc:  # a key DynamoDB refuses even as a tombstone (e.g. too long)
                if error_code(tomb_exc) not in PERMANENT_WRITE_ERRORS:
                    raise
        message = exc.response.get("Error", {}).get("Message", str(exc))
        error: TransformError = (
            the_plan.quarantine.error
            if the_plan.quarantine is not None
            else WriteRejectedError(
                change.source,
                change.key_label,
                f"DynamoDB rejected the v3 write ({error_code(exc)}: {message}); its v3 key was tombstoned. "
                "Fix the source item (e.g. keep it under 400 KB) and re-drive it",
            )
        )
        raw = change.new if change.new is not None else dict(change.keys)
        entry = entry_for(error, parsed.table, raw, change.version, self._origin)
        self._quarantine.put(entry)  # the store keeps only the key if the raw item is too large
        result.quarantined += 1
        return RecordResult(RecordOutcome.QUARANTINED, result, quarantined=entry, parsed=parsed)

    def _quarantine_raw(self, err: UnparseableRecordError, record: Mapping[str, Any]) -> RecordResult:
        try:
            entry = entry_for(err, table_hint(record), raw_record_item(record), fallback_version(record), self._origin)
            self._quarantine.put(entry)
        except Exception as exc:  # noqa: BLE001 - quarantine unreachable: retry the record
            return RecordResult(RecordOutcome.FAILED, error=exc)
        return RecordResult(RecordOutcome.QUARANTINED, ApplyResult(quarantined=1), quarantined=entry)
