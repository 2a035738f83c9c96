"""The version every v3 write carries in `_version`, and how versions order.

A stream sequence number orders records only within one stream, and a re-enabled stream may
restart lower. So a version is `<stream label>.<sequence>`: the label (the stream's creation
time, the last part of the event source ARN) normalised to fixed width, then the sequence number
zero-padded to 40 digits. Fixed width makes DynamoDB's byte-wise string comparison (`<` in a
ConditionExpression) agree with the real order, with no precision lost to numbers.

Backfill writes carry `BACKFILL_VERSION`, lower than every stream version, so the stream always
wins. A repair or re-drive carries `bump(v)`: above `v`, below every later stream version.
"""

from __future__ import annotations

from datetime import datetime

SEQUENCE_WIDTH = 40
BACKFILL_VERSION = "0"
_BUMP = "~r"  # '~' sorts after digits and '.', so bump(v) > v and bump(v) < any later fixed-width version


class VersionError(ValueError):
    pass


def stream_label(event_source_arn: str) -> str:
    """The stream label at the end of a stream ARN, normalised to `YYYYmmddTHHMMSSffffff`."""
    _, sep, label = event_source_arn.rpartition("/stream/")
    if not sep or not label:
        raise VersionError(f"{event_source_arn!r} is not a DynamoDB stream ARN (no /stream/<label>)")
    try:
        return datetime.fromisoformat(label).strftime("%Y%m%dT%H%M%S%f")
    except ValueError as exc:
        raise VersionError(f"stream label {label!r} in {event_source_arn!r} is not a timestamp") from exc


def padded_sequence(sequence_number: str) -> str:
    if not sequence_number.isdigit() or len(sequence_number) > SEQUENCE_WIDTH:
        raise VersionError(f"sequence number {sequence_number!r} is not 1-{SEQUENCE_WIDTH} decimal digits")
    return sequence_number.zfill(SEQUENCE_WIDTH)


def stream_version(event_source_arn: str, sequence_number: str) -> str:
    return f"{stream_label(event_source_arn)}.{padded_sequence(sequence_number)}"


def bump(version: str | None) -> str:
    """A version just above `version` (or above backfill's if None) and below any later stream record.

    Appending to a fixed-width version keeps it below every later stream version, which differs
    from it at some digit; bumping a bumped version again stays above it, so repeated repairs work.
    """
    return (version or BACKFILL_VERSION) + _BUMP
