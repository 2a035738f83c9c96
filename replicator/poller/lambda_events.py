"""GetRecords records -> the Lambda event shape, so local sync feeds the exact handler Lambda runs.

Lambda adds `eventSourceARN` to each record and delivers `ApproximateCreationDateTime` as epoch
seconds (a number); boto3's GetRecords gives a datetime. Everything else is passed through.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

EVENT_SOURCE = "aws:dynamodb"


def created_at(record: dict[str, Any]) -> datetime | None:
    """A GetRecords or Lambda record's approximate creation time as an aware UTC datetime."""
    value = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), tz=UTC)


def sequence_number(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def to_lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    body = dict(record.get("dynamodb", {}))
    moment = created_at(record)
    if moment is not None:
        body["ApproximateCreationDateTime"] = _epoch(moment)
    return {
        "eventID": record.get("eventID", body.get("SequenceNumber", "")),
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": record.get("eventSource", EVENT_SOURCE),
        "awsRegion": record.get("awsRegion") or region,
        "dynamodb": body,
        "eventSourceARN": stream_arn,
    }


def to_lambda_event(records: list[dict[str, Any]], stream_arn: str, region: str) -> dict[str, Any]:
    return {"Records": [to_lambda_record(r, stream_arn, region) for r in records]}


def _epoch(moment: datetime) -> float | int:
    """Whole seconds as an int (AWS's usual form), else a float with millisecond precision."""
    seconds = Decimal(str(moment.timestamp())).quantize(Decimal("0.001"))
    return int(seconds) if seconds == seconds.to_integral_value() else float(seconds)
