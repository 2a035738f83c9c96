"""GetRecords records -> the exact JSON event Lambda delivers, so local sync, `cutover dlq redrive`
and the deployed Lambda run the same handler on the same bytes.

What Lambda changes on the way (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html, the
sample event there and Powertools' `DynamoDBStreamEvent`): it adds `eventSourceARN`; the event is
JSON, so `ApproximateCreationDateTime` is epoch seconds (boto3 gives a datetime) and binary values
(`B`, `BS`, also inside `M` and `L`) are base64 strings (boto3 gives bytes). `userIdentity` is
kept when present (TTL deletions carry `{"type": "Service", "principalId": "dynamodb.amazonaws.com"}`).
The result is round-tripped through `json` so nothing that JSON cannot carry reaches the handler.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from replicator.stream_record import creation_seconds

EVENT_SOURCE = "aws:dynamodb"
_IMAGES = ("Keys", "NewImage", "OldImage")


def created_at(record: dict[str, Any]) -> datetime | None:
    """A GetRecords or Lambda record's approximate creation time as an aware UTC datetime."""
    seconds = creation_seconds(record.get("dynamodb", {}).get("ApproximateCreationDateTime"))
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)


def sequence_number(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def to_lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    body = dict(record.get("dynamodb", {}))
    moment = created_at(record)
    if moment is not None:
        body["ApproximateCreationDateTime"] = _epoch(moment)
    for image in _IMAGES:
        if image in body:
            body[image] = {name: _wire(value) for name, value in body[image].items()}
    out = {
        "eventID": record.get("eventID", body.get("SequenceNumber", "")),
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": record.get("eventSource", EVENT_SOURCE),
        "awsRegion": record.get("awsRegion") or region,
        "dynamodb": body,
        "eventSourceARN": stream_arn,
    }
    if record.get("userIdentity"):
        out["userIdentity"] = dict(record["userIdentity"])
    return out


def to_lambda_event(records: list[dict[str, Any]], stream_arn: str, region: str) -> dict[str, Any]:
    """The event, as Lambda would deliver it: JSON and back, so its types are JSON's."""
    event = {"Records": [to_lambda_record(r, stream_arn, region) for r in records]}
    round_tripped: dict[str, Any] = json.loads(json.dumps(event))
    return round_tripped


def _wire(value: dict[str, Any]) -> dict[str, Any]:
    """One DynamoDB-JSON attribute value with its binaries base64-encoded, recursively."""
    ((tag, raw),) = value.items()
    if tag == "B":
        return {"B": _b64(raw)}
    if tag == "BS":
        return {"BS": [_b64(b) for b in raw]}
    if tag == "M":
        return {"M": {k: _wire(v) for k, v in raw.items()}}
    if tag == "L":
        return {"L": [_wire(v) for v in raw]}
    return value


def _b64(raw: bytes | bytearray | str) -> str:
    return raw if isinstance(raw, str) else base64.b64encode(bytes(raw)).decode("ascii")


def _epoch(moment: datetime) -> float | int:
    """Whole seconds as an int (AWS's usual form), else a float with millisecond precision."""
    seconds = Decimal(str(moment.timestamp())).quantize(Decimal("0.001"))
    return int(seconds) if seconds == seconds.to_integral_value() else float(seconds)
