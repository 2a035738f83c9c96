"""The read-source flag: an SSM parameter, read through Powertools parameters with a short cache.

A flip reaches every warm Lambda within `cache_seconds`, without a redeploy. Anything other
than a known value fails safe to `legacy`, loudly. The log names the real cause: `FlagInvalid`
when the parameter is missing or holds an unknown value (an operator fixes the flag), but
`FlagUnreadable` when SSM cannot be reached or refuses the read (the flag is not at fault; if
the tables are unreachable too, the request then fails with `BackendUnavailable` and a 503).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from app_handlers.telemetry import FLAG_INVALID, FLAG_UNREADABLE, Telemetry
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
            cause = exc.__cause__ or exc.__context__
            if _missing(cause):
                self._invalid(f"{self.parameter} does not exist", None)
            else:
                self._telemetry.event(
                    FLAG_UNREADABLE,
                    f"cannot read the read-source flag {self.parameter}, serving legacy: {cause or exc}. "
                    "Check the endpoint/network and the function's ssm:GetParameter permission",
                    level="error",
                    parameter=self.parameter,
                    error=f"{type(cause or exc).__name__}: {cause or exc}",
                )
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


def _missing(cause: BaseException | None) -> bool:
    return isinstance(cause, ClientError) and cause.response.get("Error", {}).get("Code") == "ParameterNotFound"
