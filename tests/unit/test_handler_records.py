"""Parsing Lambda-shaped stream records into versioned Changes (replicator.stream_record)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from replicator.contract.versioning import stream_version
from replicator.stream_record import UnparseableRecordError, parse_record, table_of_arn

# fixed-date: parse input; parse_record reads no clock
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/my-service-dev-orders/stream/2026-01-02T03:04:05.678"
SOURCES = {"my-service-dev-users": "users", "my-service-dev-orders": "orders"}


def record(**overrides) -> dict:
    base = {
        "eventID": "1",
        "eventName": "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1767323045,  # fixed-date: parse input
            "Keys": {"orderId": {"S": "o1"}},
            "OldImage": {"orderId": {"S": "o1"}, "userId": {"S": "a"}, "n": {"N": "1"}},
            "NewImage": {"orderId": {"S": "o1"}, "userId": {"S": "b"}, "n": {"N": "2.5"}},
            "SequenceNumber": "4000000000000000000000123",
            "SizeBytes": 80,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": ARN,
    }
    base.update(overrides)
    return base


def test_parses_source_images_and_version():
    # Given a well-formed orders MODIFY, When parsed
    parsed = parse_record(record(), SOURCES)
    # Then the source comes from the ARN's table, images are plain values with Decimal numbers
    change = parsed.change
    assert (change.source, change.event_name, change.keys) == ("orders", "MODIFY", {"orderId": "o1"})
    assert change.old["n"] == Decimal("1") and change.new == {"orderId": "o1", "userId": "b", "n": Decimal("2.5")}
    assert change.version == stream_version(ARN, "4000000000000000000000123")
    assert (parsed.table, parsed.sequence_number, parsed.created_at) == (
        "my-service-dev-orders",
        "4000000000000000000000123",
        1767323045.0,  # fixed-date: parse output
    )


def test_boto3_datetime_creation_time_is_accepted():
    # Given a record as the streams API returns it (datetime), When parsed, Then it becomes epoch seconds
    rec = record()
    rec["dynamodb"]["ApproximateCreationDateTime"] = datetime(2026, 1, 2, tzinfo=UTC)  # fixed-date: parse input
    assert parse_record(rec, SOURCES).created_at == datetime(2026, 1, 2, tzinfo=UTC).timestamp()  # fixed-date: same


def test_remove_without_new_image_has_none():
    rec = record(eventName="REMOVE")
    del rec["dynamodb"]["NewImage"]
    assert parse_record(rec, SOURCES).change.new is None


@pytest.mark.parametrize(  # fixed-date: malformed parse inputs
    "mutate, detail",
    [
        (
            lambda r: r.update(
                eventSourceARN="arn:aws:dynamodb:us-east-1:123456789012:table/someone-else/stream/2026-01-01T00:00:00"
            ),
            "'someone-else' is not a configured legacy table",
        ),
        (lambda r: r.update(eventSourceARN="not-an-arn"), "is not a DynamoDB stream ARN"),
        (lambda r: r.update(eventSourceARN=ARN.replace("2026-01-02T03:04:05.678", "yesterday")), "is not a timestamp"),
        (lambda r: r["dynamodb"].update(SequenceNumber="12ab"), "is not 1-40 decimal digits"),
        (lambda r: r["dynamodb"].update(SequenceNumber="1" * 41), "is not 1-40 decimal digits"),
        (lambda r: r.update(eventName="UPSERT"), "eventName 'UPSERT' is not INSERT, MODIFY or REMOVE"),
        (lambda r: r["dynamodb"].update(NewImage={"n": {"Q": "1"}}), "not valid DynamoDB JSON"),
        (lambda r: r["dynamodb"].pop("Keys"), "not valid DynamoDB JSON"),
        (lambda r: r.pop("dynamodb"), "has no 'dynamodb' object"),
    ],
)
def test_unparseable_records_raise_a_typed_error_keyed_by_record(mutate, detail):
    # Given a record broken in one way
    rec = record()
    mutate(rec)
    # When parsed, Then a TransformError subclass names the problem, source "unknown"
    with pytest.raises(UnparseableRecordError) as caught:
        parse_record(rec, SOURCES)
    assert detail in str(caught.value)
    assert caught.value.source == "unknown" and caught.value.reason == "unparseable_record"
    assert isinstance(caught.value.key, str) and caught.value.key


def test_table_of_arn():
    assert table_of_arn(ARN) == "my-service-dev-orders"
    with pytest.raises(ValueError, match="expected ...:table/<name>/stream/<label>"):
        table_of_arn("arn:aws:dynamodb:us-east-1:123456789012:table/t")
