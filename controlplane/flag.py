"""The read-source flag's values and its direct (uncached) store: the control plane's one knob.

`cutover flip` and `cutover status` read and write it here; the API reads it through a cached
Powertools provider (`app_handlers.read_source.FlagReader`) and shares the `ReadSource` values.
"""

from __future__ import annotations

import enum
from typing import Any


class ReadSource(str, enum.Enum):
    LEGACY = "legacy"
    SHADOW = "shadow"
    V3 = "v3"


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
