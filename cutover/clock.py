"""The one place that reads the wall clock and writes/reads timestamps.

Every timestamp cutover stores (quarantine entries, checkpoints, reports, positions, flip
records) is UTC ISO-8601 with milliseconds and a `Z`, so they sort as strings and read the same
in the AWS console. Callers that must be testable take a clock argument defaulting to these.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """`moment` as `YYYY-MM-DDTHH:MM:SS.mmmZ` (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now() -> str:
    """The current time as stored everywhere: `YYYY-MM-DDTHH:MM:SS.mmmZ`."""
    return iso(now())


def parse_iso(text: str | None) -> datetime | None:
    """A stored timestamp back to an aware datetime; None for None or an empty string."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
