"""Where cutover runs: service, stage, region and (for a local backend) the endpoint.

Validated once at the edge (CLI options, Lambda environment) and passed inward as a value.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

from cutover.errors import ConfigError
from cutover.names import Names
from cutover.stages import check_names

DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Settings:
    service: str = "my-service"
    stage: str = "dev"
    region: str | None = None
    endpoint_url: str | None = None
    # DynamoDB alone on another local endpoint (dynalite), Streams/SSM/SQS on `endpoint_url` (moto).
    dynamodb_endpoint_url: str | None = None
    # Explicit legacy table names per source role (a deployment whose legacy tables were named by hand).
    legacy_tables: tuple[tuple[str, str], ...] = ()
    # The migration definition, `module:attribute` (None: CUTOVER_MIGRATION, [tool.cutover], the seed).
    migration: str | None = None

    def __post_init__(self) -> None:
        check_names(self.service, self.stage)  # any stage name whose resource names AWS accepts
        for url in (self.endpoint_url, self.dynamodb_endpoint_url):
            if url is not None and not re.match(r"^https?://", url):
                raise ConfigError(f"endpoint URL {url!r} must start with http:// or https://")
        if self.dynamodb_endpoint_url is not None and self.endpoint_url is None:
            raise ConfigError(
                "a separate DynamoDB endpoint needs --endpoint-url too (Streams, SSM and SQS stay on the local moto "
                "backend): pass both, or neither for real AWS"
            )

    @property
    def names(self) -> Names:
        from cutover import transform_secrets
        from cutover.migration_loader import load_migration  # read once per process (cached)

        migration = load_migration(self.migration)
        transform_secrets.bind(migration, local=self.is_local, ssm=self._ssm, service=self.service, stage=self.stage,
                               dynamodb=self._dynamodb)  # fmt: skip
        return Names(self.service, self.stage, self.legacy_tables, migration)

    def _ssm(self) -> object:
        from cutover.clients import Clients  # boto3 only when a secret is actually read

        return Clients(self).client("ssm")

    def _dynamodb(self) -> object:
        from cutover.clients import Clients

        return Clients(self).dynamodb

    @property
    def is_local(self) -> bool:
        """True when talking to an explicit endpoint (moto, dynalite), False for real AWS."""
        return self.endpoint_url is not None

    def with_endpoint(self, endpoint_url: str | None) -> Settings:
        return replace(self, endpoint_url=endpoint_url)

    def endpoint_for(self, service: str) -> str | None:
        """The endpoint a client of `service` talks to (None: AWS's own)."""
        if service == "dynamodb" and self.dynamodb_endpoint_url:
            return self.dynamodb_endpoint_url
        return self.endpoint_url

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            service=env.get("CUTOVER_SERVICE", env.get("SERVICE", "my-service")),
            stage=env.get("CUTOVER_STAGE", env.get("STAGE", "dev")),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
            endpoint_url=env.get("CUTOVER_ENDPOINT_URL") or None,
            dynamodb_endpoint_url=env.get("CUTOVER_DYNAMODB_ENDPOINT_URL") or None,
            migration=env.get("CUTOVER_MIGRATION") or None,
        )
