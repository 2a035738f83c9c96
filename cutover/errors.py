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
