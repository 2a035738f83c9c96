"""Errors every unit shares. Each message names the item and tells the reader what to do next."""

from __future__ import annotations


class CutoverError(Exception):
    """Base for expected failures: the CLI prints the message as one line and exits 2."""

    exit_code = 2


class ConfigError(CutoverError):
    """A setting, environment variable or context value is missing or malformed."""


class BackendError(CutoverError):
    """The backend (AWS or the local endpoint) refused or could not be reached."""


class NotFoundError(CutoverError):
    """A table, stream or parameter cutover needs does not exist."""


class InvalidSegmentError(ConfigError):
    """A segment number outside 0..segments-1, or a non-positive segment count."""

    def __init__(self, segment: int | None, segments: int) -> None:
        if segments < 1:
            detail = f"--segments must be at least 1, got {segments}"
        else:
            detail = f"--segment {segment} is outside 0..{segments - 1} for --segments {segments}"
        super().__init__(f"{detail}: pick a segment number below the segment count")


class UnknownTableError(ConfigError):
    def __init__(self, table: str, roles: tuple[str, ...] = ()) -> None:
        super().__init__(f"unknown table {table!r}: use {', '.join(roles)} or all (the migration's source roles)")
