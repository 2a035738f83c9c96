"""Parse one DynamoDB Streams record, exactly as Lambda delivers it, into a versioned `Change`.

This is the edge where stream input is validated: everything inward gets a typed `Change`.
A record that cannot be parsed raises `UnparseableRecordError` (a TransformError, so it is
quarantined like any other bad input instead of blocking the shard forever).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from cutover.codec import from_ddb
from cutover.migration import Migration
from cutover.transform_errors import TransformError
from replicator.changes import INSERT, MODIFY, REMOVE, Change
from replicator.contract.versioning import BACKFILL_VERSION, VersionError, stream_version

UNKNOWN_SOURCE = "unknown"
EVENT_NAMES = frozenset({INSERT, MODIFY, REMOVE})


class UnparseableRecordError(TransformError):
    """A stream record that is not a usable DynamoDB Streams record for a configured legacy table.

    Kept here, beside the parser that raises it; `cutover.transform_errors` holds the transforms' own.
    """

    reason = "unparseable_record"


@dataclass(frozen=True)
class StreamRecord:
    """A parsed record: the change plus what the handler needs for failures, logs and lag."""

    change: Change
    table: str
    event_source_arn: str
    sequence_number: str
    created_at: float | None  # epoch seconds (ApproximateCreationDateTime), None if absent


def table_of_arn(event_source_arn: str) -> str:
    """`arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>` -> `<name>`."""
    _, sep, rest = event_source_arn.partition(":table/")
    name, stream_sep, _label = rest.partition("/stream/")
    if not sep or not stream_sep or not name:
        raise ValueError(
            f"{event_source_arn!r} is not a DynamoDB stream ARN (expected ...:table/<name>/stream/<label>)"
        )
    return name


def record_id(record: Mapping[str, Any]) -> tuple[str, str]:
    """(eventSourceARN, SequenceNumber): unique across the tables feeding one batch."""
    body = record.get("dynamodb")
    dynamodb: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    return str(record.get("eventSourceARN", "")), str(dynamodb.get("SequenceNumber", ""))


def parse_record(
    record: Mapping[str, Any], sources: Mapping[str, str], migration: Migration | None = None
) -> StreamRecord:
    """Parse a Lambda-shaped stream record. `sources` maps legacy table name -> source role.

    Raises:
        UnparseableRecordError: malformed ARN or sequence number, unknown table, unknown
            eventName, missing/undecodable Keys or images. Its `source` is always "unknown"
            (quarantine entries under a source role hold legacy items; this holds a raw record)
            and its `key` is `<eventSourceARN>#<SequenceNumber>`.
    """
    arn, seq = record_id(record)
    dynamodb = record.get("dynamodb")
    try:
        table = table_of_arn(arn)
    except ValueError as exc:
        raise _unparseable(record, str(exc)) from exc
    source = sources.get(table)
    if source is None:
        known = ", ".join(sorted(sources)) or "none"
        raise _unparseable(record, f"table {table!r} is not a configured legacy table (configured: {known})")
    if not isinstance(dynamodb, Mapping):
        raise _unparseable(record, "has no 'dynamodb' object")
    try:
        version = stream_version(arn, seq)
    except VersionError as exc:
        raise _unparseable(record, str(exc)) from exc
    event_name = record.get("eventName")
    if event_name not in EVENT_NAMES:
        raise _unparseable(record, f"eventName {event_name!r} is not INSERT, MODIFY or REMOVE")
    try:
        keys = from_ddb(dynamodb["Keys"])
        old = from_ddb(dynamodb["OldImage"]) if "OldImage" in dynamodb else None
        new = from_ddb(dynamodb["NewImage"]) if "NewImage" in dynamodb else None
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise _unparseable(record, f"Keys/images are not valid DynamoDB JSON: {exc!r}") from exc
    key_names = migration.source(source).key_names if migration is not None else ()
    keys = _keys_from_image(keys, new if new is not None else old)
    change = Change(source, event_name, keys, old, new, version, key_names)
    return StreamRecord(change, table, arn, seq, creation_seconds(dynamodb.get("ApproximateCreationDateTime")))


def _keys_from_image(keys: dict[str, Any], image: dict[str, Any] | None) -> dict[str, Any]:
    """The key attributes as the image holds them (the same values on AWS, where Keys is the image's
    key projection). moto's stream encodes a binary key in `Keys` twice (base64 of base64) while its
    images are right, so the image is the one source of key values; `Keys` alone without an image."""
    if image is None or not all(name in image for name in keys):
        return keys
    return {name: image[name] for name in keys}


def creation_seconds(value: object) -> float | None:
    """ApproximateCreationDateTime as epoch seconds: Lambda sends a number, boto3 a datetime."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return float(value)
    return None


def fallback_version(record: Mapping[str, Any]) -> str:
    """The record's stream version if it has one, else the lowest version (for quarantine only)."""
    try:
        return stream_version(*record_id(record))
    except VersionError:
        return BACKFILL_VERSION


def raw_record_item(record: Mapping[str, Any]) -> dict[str, str]:
    """The whole raw record as one JSON string attribute, so quarantine loses nothing."""
    return {"record": json.dumps(record, default=str, sort_keys=True)}


def _unparseable(record: Mapping[str, Any], detail: str) -> UnparseableRecordError:
    arn, seq = record_id(record)
    ident = seq or hashlib.sha256(json.dumps(record, default=str, sort_keys=True).encode()).hexdigest()[:16]
    key = f"{arn or '<no eventSourceARN>'}#{ident}"
    return UnparseableRecordError(UNKNOWN_SOURCE, key, f"stream record {ident}: {detail}")


def table_hint(record: Mapping[str, Any]) -> str:
    """The table name for a quarantine entry: from the ARN if it parses, else the raw ARN."""
    arn, _ = record_id(record)
    try:
        return table_of_arn(arn)
    except ValueError:
        return arn or "<no eventSourceARN>"
