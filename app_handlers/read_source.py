"""The read-source flag: an SSM parameter, read through Powertools parameters with a short cache.

A flip reaches every warm Lambda within `cache_seconds`, without a redeploy. Anything other
than a known value fails safe to `legacy`, loudly (error log + `FlagInvalid` metric).
"""
from __future__ import annotations

import enum
from typing import Any

from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from app_handlers.telemetry import FLAG_INVALID, Telemetry


class ReadSource(str, enum.Enum):
    LEGACY = "legacy"
    SHADOW = "shadow"
    V3 = "v3"


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
            FLAG_INVALID, f"read-source flag invalid, serving legacy: {why}. Fix with `cutover flip legacy`",
            level="error", parameter=self.parameter, value=value,
        )


class FlagStore:
    """Direct (uncached) reads and writes of the flag, for `cutover flip` and `cutover status`."""

    def __init__(self, ssm_client: Any, parameter: str) -> None:
        self._ssm = ssm_client
        self.parameter = parameter

    def get(self) -> str | None:
        try:
            return self._ssm.get_parameter(Name=self.parameter)["Parameter"]["Value"]
        except self._ssm.exceptions.ParameterNotFound:
            return None

    def set(self, value: ReadSource) -> None:
        self._ssm.put_parameter(Name=self.parameter, Value=value.value, Type="String", Overwrite=True)
