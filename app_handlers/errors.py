"""Errors the API maps to HTTP responses (in `api`). Each message names the field or record."""

from __future__ import annotations


class AppError(Exception):
    status = 500


class InvalidRequest(AppError):
    """Bad input: 400 naming every offending field."""

    status = 400

    def __init__(self, message: str, fields: list[str]) -> None:
        super().__init__(message)
        self.fields = fields


class RecordNotFound(AppError):
    """Absent or tombstoned record: 404."""

    status = 404


class Conflict(AppError):
    """The request contradicts existing data (duplicate email): 409."""

    status = 409
