"""The one source of truth for table names, keys, GSIs and parameter names.

CDK (`infra/`), the local backend (`cutover_cli.local_backend`) and runtime code all import from here, so a
renamed index or key cannot drift between what is deployed and what the code queries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

USERS = "users"
ORDERS = "orders"
SOURCES = (USERS, ORDERS)
READ_SOURCES = ("legacy", "shadow", "v3")


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str | None = None
    projection: str = "ALL"  # ALL | KEYS_ONLY


@dataclass(frozen=True)
class TableSpec:
    """A table's key schema, GSIs and stream setting, independent of how it is created."""

    role: str
    name: str
    hash_key: str
    range_key: str | None = None
    indexes: tuple[Index, ...] = ()
    stream: bool = False
    ttl_attribute: str | None = None
    attribute_types: dict[str, str] = field(default_factory=dict)

    def key_names(self) -> tuple[str, ...]:
        return (self.hash_key,) if self.range_key is None else (self.hash_key, self.range_key)

    def key_of(self, item: dict[str, Any]) -> dict[str, Any]:
        """The primary key of a (plain, deserialised) item."""
        return {k: item[k] for k in self.key_names()}

    def attribute_definitions(self) -> list[dict[str, str]]:
        names: list[str] = list(self.key_names())
        for ix in self.indexes:
            names += [n for n in (ix.hash_key, ix.range_key) if n]
        seen = dict.fromkeys(names)
        return [{"AttributeName": n, "AttributeType": self.attribute_types.get(n, "S")} for n in seen]

    def create_table_kwargs(self, stream: bool | None = None) -> dict[str, Any]:
        """boto3 `create_table` arguments (on-demand), used by the local backend.

        `stream=False` creates a stream-bearing table without its stream (to model history
        written before cutover was deployed); None follows the spec.
        """
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeySchema": _key_schema(self.hash_key, self.range_key),
            "AttributeDefinitions": self.attribute_definitions(),
            "BillingMode": "PAY_PER_REQUEST",
        }
        if self.indexes:
            kwargs["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": ix.name,
                    "KeySchema": _key_schema(ix.hash_key, ix.range_key),
                    "Projection": {"ProjectionType": ix.projection},
                }
                for ix in self.indexes
            ]
        if self.stream and stream is not False:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        return kwargs


def _key_schema(hash_key: str, range_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


EMAIL_INDEX = "email-index"
USER_ID_INDEX = "userId-index"
EMAIL_LOOKUP_INDEX = "EmailLookupIndex"
TIME_SERIES_INDEX = "TimeSeriesIndex"
API_TTL_ATTRIBUTE = "expiresAt"  # epoch seconds; DynamoDB TTL removes expired recent-write markers


@dataclass(frozen=True)
class Names:
    """Every name cutover uses, derived from (service, stage). Defaults match docs/CONTRACT.md.

    The legacy tables are not cutover's: a deployment may have named them by hand years ago, so
    their names can be given explicitly (CDK context, `--users-table`/`--orders-table`, or the
    names a deployment published, see `deployment_parameter`). Everything else is derived.
    """

    service: str = "my-service"
    stage: str = "dev"
    legacy_users: str | None = None
    legacy_orders: str | None = None

    @property
    def prefix(self) -> str:
        return f"{self.service}-{self.stage}"

    @property
    def users_table(self) -> str:
        return self.legacy_users or f"{self.prefix}-users"

    @property
    def orders_table(self) -> str:
        return self.legacy_orders or f"{self.prefix}-orders"

    @property
    def v3_table(self) -> str:
        return f"{self.prefix}-users-v3"

    @property
    def checkpoints_table(self) -> str:
        """Stream positions and backfill cursors."""
        return f"{self.prefix}-cutover-checkpoints"

    @property
    def quarantine_table(self) -> str:
        return f"{self.prefix}-cutover-quarantine"

    @property
    def reports_table(self) -> str:
        """Backfill runs, reconcile summaries and the flip audit log."""
        return f"{self.prefix}-cutover-reports"

    def failure_queue(self, source: str) -> str:
        """The SQS queue the replicator's event source sends a discarded batch's pointer to."""
        return f"{self.prefix}-cutover-{source}-stream-failures"

    @property
    def api_table(self) -> str:
        """The API's own items: e-mail uniqueness claims and recent-write markers (app_handlers.ledger)."""
        return f"{self.prefix}-cutover-api"

    @property
    def parameter_prefix(self) -> str:
        return f"/{self.service}/{self.stage}/cutover"

    @property
    def read_source_parameter(self) -> str:
        return f"{self.parameter_prefix}/read-source"

    @property
    def deployment_parameter(self) -> str:
        """Where a CDK deployment publishes its resolved names (JSON), so the CLI finds them."""
        return f"{self.parameter_prefix}/deployment"

    def with_published(self, published: Mapping[str, str]) -> Names:
        """These names, with the legacy tables a deployment published (explicit ones win)."""
        return replace(
            self,
            legacy_users=self.legacy_users or published.get("usersTable"),
            legacy_orders=self.legacy_orders or published.get("ordersTable"),
        )

    def describe(self) -> dict[str, str]:
        """What `cutover status` shows: the tables this run is looking at."""
        return {
            "users": self.users_table,
            "orders": self.orders_table,
            "v3": self.v3_table,
            "checkpoints": self.checkpoints_table,
            "quarantine": self.quarantine_table,
            "reports": self.reports_table,
        }

    def source_table(self, source: str) -> str:
        """Legacy table name for a source role (`users` or `orders`)."""
        return {USERS: self.users_table, ORDERS: self.orders_table}[source]

    def source_of_table(self, table_name: str) -> str | None:
        return {self.users_table: USERS, self.orders_table: ORDERS}.get(table_name)

    # --- table specs -------------------------------------------------------------------
    def users_spec(self) -> TableSpec:
        return TableSpec(USERS, self.users_table, "userId", indexes=(Index(EMAIL_INDEX, "email"),), stream=True)

    def orders_spec(self) -> TableSpec:
        return TableSpec(ORDERS, self.orders_table, "orderId", indexes=(Index(USER_ID_INDEX, "userId"),), stream=True)

    def v3_spec(self) -> TableSpec:
        return TableSpec(
            "v3",
            self.v3_table,
            "userId",
            "recordType",
            indexes=(
                Index(EMAIL_LOOKUP_INDEX, "email", "recordType", "KEYS_ONLY"),
                Index(TIME_SERIES_INDEX, "entityType", "timestamp", "KEYS_ONLY"),
            ),
        )

    def own_specs(self) -> tuple[TableSpec, ...]:
        """cutover's bookkeeping tables: generic pk/sk so each store chooses its own layout."""
        return tuple(
            TableSpec(role, name, "pk", "sk")
            for role, name in (
                ("checkpoints", self.checkpoints_table),
                ("quarantine", self.quarantine_table),
                ("reports", self.reports_table),
            )
        )

    def api_spec(self) -> TableSpec:
        """The API's claims and recent-write markers; markers expire through TTL. Only the API uses it
        (not in `own_specs`, whose tables the replication stack hands to its functions)."""
        return TableSpec("api", self.api_table, "pk", "sk", ttl_attribute=API_TTL_ATTRIBUTE)

    def legacy_specs(self) -> tuple[TableSpec, ...]:
        return (self.users_spec(), self.orders_spec())

    def all_specs(self) -> tuple[TableSpec, ...]:
        return (*self.legacy_specs(), self.v3_spec(), *self.own_specs(), self.api_spec())
