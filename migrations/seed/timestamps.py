"""Normalise legacy `createdAt` values to UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`. Pure: no clock, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from cutover.migration import shown

MILLIS_THRESHOLD = 100_000_000_000  # contract: any number >= this is epoch milliseconds
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class UnparseableTimestamp(ValueError):
    pass


def normalise_timestamp(value: object) -> str:
    """Return the contract's UTC form of an ISO-8601 string or an epoch number.

    Raises:
        UnparseableTimestamp: the value is neither, or is out of datetime's range.
    """
    if isinstance(value, bool):
        raise UnparseableTimestamp(f"{shown(value)} is not a timestamp")
    if isinstance(value, (int, float, Decimal)):
        return _format(_from_epoch(value))
    if isinstance(value, str):
        return _format(_from_iso(value))
    raise UnparseableTimestamp(f"{shown(value)} is not an ISO-8601 string or epoch number")


def _from_epoch(value: int | float | Decimal) -> datetime:
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            raise UnparseableTimestamp(f"{shown(value)} is not a finite number")
        millis = number if number >= MILLIS_THRESHOLD else number * 1000  # negatives are always seconds
        whole_ms = int(millis.to_integral_value(rounding="ROUND_FLOOR"))
        return _EPOCH + timedelta(milliseconds=whole_ms)
    except (OverflowError, InvalidOperation, ValueError) as exc:
        if isinstance(exc, UnparseableTimestamp):
            raise
        raise UnparseableTimestamp(f"epoch {shown(value)} is out of range") from exc


def _from_iso(value: str) -> datetime:
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UnparseableTimestamp(f"{shown(value)} is not ISO-8601") from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:
        raise UnparseableTimestamp(f"{shown(value)} is out of range once converted to UTC") from exc


def _format(moment: datetime) -> str:
    if not 1 <= moment.year <= 9999:
        raise UnparseableTimestamp(f"year {moment.year} is out of range")
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}Z"
    )
