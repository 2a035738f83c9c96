"""Direct (uncached) reads of the read-source flag's owner, and its SSM mirror (`controlplane.flag`)."""

from __future__ import annotations

from typing import Any

from controlplane.flag import KEY, READ_SOURCE, ReadSource, decode
from cutover.codec import from_ddb, to_ddb


class FlagStore:
    """Direct (uncached) reads of the owner, and the SSM mirror, for `cutover flip` and `cutover status`."""

    def __init__(self, dynamodb_client: Any, table: str, ssm_client: Any, parameter: str) -> None:
        self._ddb, self.table = dynamodb_client, table
        self._ssm, self.parameter = ssm_client, parameter

    def item(self) -> dict[str, Any] | None:
        resp = self._ddb.get_item(TableName=self.table, Key=to_ddb(KEY), ConsistentRead=True)
        return from_ddb(resp["Item"]) if "Item" in resp else None

    def get(self) -> str | None:
        return decode(self.item())

    @staticmethod
    def owner_attributes(value: ReadSource) -> dict[str, Any]:
        """What the flip's compare-and-set writes beside its record: the value readers obey."""
        return {READ_SOURCE: value.value}

    def mirror(self) -> str | None:
        try:
            return self._ssm.get_parameter(Name=self.parameter)["Parameter"]["Value"]
        except self._ssm.exceptions.ParameterNotFound:
            return None

    def set_mirror(self, value: str) -> None:
        self._ssm.put_parameter(Name=self.parameter, Value=value, Type="String", Overwrite=True)
