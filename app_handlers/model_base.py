"""Shared plumbing for the per-table pynamodb models.

Table names and the endpoint are runtime settings (service/stage, local or AWS), so model classes
are built per `Connection` by a cached factory instead of being declared once at import time.
Legacy items are messy and carry attributes no model declares; `RawItemModel` keeps the whole
item as plain Python values so nothing is dropped on the way to the response or the comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.models import Model

from cutover.codec import from_ddb


@dataclass(frozen=True)
class Connection:
    """Where pynamodb connects. Credentials only for a local endpoint (placeholders)."""

    region: str
    host: str | None = None
    access_key: str | None = None
    secret_key: str | None = None

    @classmethod
    def from_clients(cls, clients: Any) -> Connection:
        """Reuse `cutover.clients.Clients`' region and endpoint; on local, its (placeholder) credentials."""
        host = clients.settings.endpoint_for("dynamodb")
        if host is None:
            return cls(region=clients.region)
        creds = clients.session.get_credentials().get_frozen_credentials()
        return cls(region=clients.region, host=host, access_key=creds.access_key, secret_key=creds.secret_key)

    def meta(self, table_name: str) -> type:
        """A pynamodb `Meta` class for one table on this connection."""
        attrs: dict[str, Any] = {
            "table_name": table_name,
            "region": self.region,
            "host": self.host,
            "connect_timeout_seconds": 5,
            "read_timeout_seconds": 10,
            "max_retry_attempts": 2,
        }
        if self.access_key:
            attrs.update(aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key)
        return type("Meta", (), attrs)


class RawItemModel(Model):
    """A model that also remembers every attribute of the item it was read from."""

    raw_item: dict[str, Any]

    @classmethod
    def from_raw_data(cls, data: dict[str, Any]) -> Any:  # type: ignore[override]
        instance = super().from_raw_data(data)
        object.__setattr__(instance, "raw_item", from_ddb(data))
        return instance
