"""The read-source flag: an SSM parameter, read through Powertools parameters with a short cache.

A flip reaches every warm Lambda within `cache_seconds`, without a redeploy. Anything other
than a known value fails safe to `legacy`, loudly (error log + `FlagInvalid` metric).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from app_handlers.telemetry import FLAG_INVALID, Telemetry
from controlplane.flag import ReadSource

__all__ = ["FlagReader", "ReadSource"]


class FlagReader:
    def __init__(self, ssm_client: Any, parameter: str, cache_seconds: int, telemetry: Telemetry) -> None:
        self._provider = SSMProvider(boto3_client=ssm_client)
        self.parameter = parameter
        self.cache_seconds = cache_seconds
        self._telemetry = telemetry

    def current(self) -> ReadSource:
        try:
            value = self._provider.get(self.parameter, max_age=self.cache_seconds)
        except GetParameterError as exc:
            self._invalid(f"cannot read {self.parameter}: {exc}", None)
            return ReadSource.LEGACY
        try:
            return ReadSource(str(value).strip())
        except ValueError:
            self._invalid(f"{self.parameter} holds {value!r}, not one of legacy|shadow|v3", value)
            return ReadSource.LEGACY

    def _invalid(self, why: str, value: object) -> None:
        self._telemetry.event(
            FLAG_INVALID,
            f"read-source flag invalid, serving legacy: {why}. Fix with `cutover flip legacy`",
            level="error",
            parameter=self.parameter,
            value=value,
        )
