"""The read-source flag's SSM store, read through Powertools parameters with a short cache.

A flip reaches every warm Lambda within `cache_seconds`, without a redeploy. Decoding (and failing
safe to legacy, loudly) is the one reader's, `app_handlers.routing.FlagReader`; this module only
says where the value lives and what a failure to read it means: a missing parameter is "nothing
stored" (`FlagInvalid`: an operator fixes the flag), while SSM unreachable or refusing the read is
`FlagUnavailable` (`FlagUnreadable`: the flag is not at fault; if the tables are unreachable too,
the request then fails with `BackendUnavailable` and a 503).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from app_handlers import routing
from app_handlers.routing import FlagUnavailable
from app_handlers.telemetry import Telemetry
from controlplane.flag import ReadSource

__all__ = ["FlagReader", "ReadSource", "SSMFlagValues"]

UNREADABLE_FIX = "Check the endpoint/network and the function's ssm:GetParameter permission"


class SSMFlagValues:
    """The flag's value in an SSM parameter, cached `cache_seconds` (Powertools)."""

    def __init__(self, ssm_client: Any, parameter: str, cache_seconds: int) -> None:
        self._provider = SSMProvider(boto3_client=ssm_client)
        self.name = parameter
        self.cache_seconds = cache_seconds

    def read(self) -> str | None:
        try:
            return str(self._provider.get(self.name, max_age=self.cache_seconds))
        except GetParameterError as exc:
            cause = exc.__cause__ or exc.__context__
            if _missing(cause):
                return None
            raise FlagUnavailable(cause or exc, UNREADABLE_FIX) from exc


class FlagReader(routing.FlagReader):
    """The API's flag: the one reader (`routing.FlagReader`) over the SSM parameter."""

    def __init__(self, ssm_client: Any, parameter: str, cache_seconds: int, telemetry: Telemetry) -> None:
        super().__init__(SSMFlagValues(ssm_client, parameter, cache_seconds), telemetry)
        self.parameter = parameter
        self.cache_seconds = cache_seconds


def _missing(cause: BaseException | None) -> bool:
    return isinstance(cause, ClientError) and cause.response.get("Error", {}).get("Code") == "ParameterNotFound"
