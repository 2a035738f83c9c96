"""Where moto's DynamoDB (5.2) differs from AWS in what the deploy reads, and the patch.

1. Stream labels. AWS labels a stream with its creation time to the millisecond,
   `2015-05-11T21:21:33.291`, the last part of the stream's ARN (LatestStreamLabel, "a timestamp,
   in ISO 8601 format", and the ARNs of
   https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_DescribeStream.html);
   moto writes Python's `isoformat()`, to the microsecond (or to the second
   when the microseconds are 0). The CDK app validates `legacyStreamArns` against AWS's form and
   refuses moto's. Patch: `Table.set_stream_specification` relabels to milliseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

_LOCK = threading.Lock()


def aws_label(label: str) -> str:
    """moto's stream label in AWS's form: `YYYY-MM-DDTHH:MM:SS.mmm`."""
    moment = datetime.fromisoformat(label)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


@contextmanager
def applied() -> Iterator[None]:
    """The patch installed for the block, moto's own behaviour back after it. Not re-entrant."""
    from moto.dynamodb.models.table import Table

    original = Table.__dict__["set_stream_specification"]

    def set_stream_specification(table: Any, streams: Any) -> None:
        original(table, streams)
        if table.latest_stream_label:
            table.latest_stream_label = aws_label(table.latest_stream_label)

    if not _LOCK.acquire(blocking=False):
        raise RuntimeError("the DynamoDB moto gaps are already applied")
    setattr(Table, "set_stream_specification", set_stream_specification)  # noqa: B010 - moto's method, patched
    try:
        yield
    finally:
        setattr(Table, "set_stream_specification", original)  # noqa: B010
        _LOCK.release()
