"""The one source of truth for table names, keys, GSIs and parameter names.

CDK (`infra/`), the local backend (`cutover_cli.local_backend`) and runtime code all import from here, so a
renamed index or key cannot drift between what is deployed and what the code queries. The legacy
tables and the target come from the migration definition (`cutover.migration`); nothing here knows
one schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from cutover.errors import ConfigError
from cutover.migration import Migration, _Table

# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
MAX_QUEUE_NAME = 80

READ_SOURCES = ("legacy", "shadow", "v3")


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str | None = None
    projection: str = "ALL"  # ALL | KEYS_ONLY | INCLUDE
    non_key_attributes: tuple[str, ...] = ()  # INCLUDE only


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
                    "Projection": {"ProjectionType": ix.projection}
                    | ({"NonKeyAttributes": list(ix.non_key_attributes)} if ix.non_key_attributes else {}),
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


API_TTL_ATTRIBUTE = "expiresAt"  # epoch seconds; DynamoDB TTL removes expired recent-write markers


def _default_migration() -> Migration:
    from cutover.migration_loader import load_migration  # CUTOVER_MIGRATION, [tool.cutover], or the seed

    return load_migration()


@dataclass(frozen=True)
class Names:
    """Every name cutover uses, derived from (service, stage) and the migration definition.

    The legacy tables are not cutover's: a deployment may have named them by hand years ago, so
    their names can be given explicitly per source role (CDK context, `--legacy-table ROLE=NAME`,
    or the names a deployment published, see `deployment_parameter`). Everything else is derived.
    """

    service: str = "my-service"
    stage: str = "dev"
    legacy: tuple[tuple[str, str], ...] = ()  # (role, hand-given table name)
    migration: Migration = field(default_factory=_default_migration, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.legacy, Mapping):
            object.__setattr__(self, "legacy", tuple(sorted(self.legacy.items())))
        for role, _ in self.legacy:
            self.migration.source(role)  # UnknownRoleError names the roles there are
        for role in self.roles:  # the one derived name that grows with a role: SQS allows 80 characters
            queue = self.failure_queue(role)
            if len(queue) > MAX_QUEUE_NAME:
                raise ConfigError(
                    f"the on-failure queue of source {role!r} would be named {queue} ({len(queue)} characters; SQS "
                    f"allows {MAX_QUEUE_NAME}): shorten --service/--stage or the role in the migration definition"
                )

    @property
    def prefix(self) -> str:
        return f"{self.service}-{self.stage}"

    @property
    def roles(self) -> tuple[str, ...]:
        """The source roles, in the definition's order."""
        return self.migration.roles

    def source_table(self, role: str) -> str:
        """The legacy table of a source role: the hand-given name, else the definition's template."""
        given = dict(self.legacy).get(role)
        return given or self.migration.source_table(role, self.service, self.stage)

    def source_tables(self) -> dict[str, str]:
        """role -> legacy table name, in the definition's order."""
        return {role: self.source_table(role) for role in self.roles}

    def source_of_table(self, table_name: str) -> str | None:
        return {table: role for role, table in self.source_tables().items()}.get(table_name)

    @property
    def v3_table(self) -> str:
        """The target table (the seed calls it v3)."""
        return self.migration.target_table(self.service, self.stage)

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

    def with_published(self, published: Mapping[str, Any]) -> Names:
        """These names, with the legacy tables a deployment published (explicit ones win)."""
        tables = published.get("sourceTables")
        given = dict(tables) if isinstance(tables, Mapping) else {}
        merged = {role: name for role, name in given.items() if role in self.roles} | dict(self.legacy)
        return replace(self, legacy=tuple(sorted(merged.items())))

    def describe(self) -> dict[str, str]:
        """What `cutover status` shows: the tables this run is looking at."""
        return {
            **self.source_tables(),
            "v3": self.v3_table,
            "checkpoints": self.checkpoints_table,
            "quarantine": self.quarantine_table,
            "reports": self.reports_table,
        }

    # --- table specs -------------------------------------------------------------------
    def source_spec(self, role: str) -> TableSpec:
        """A legacy table as the definition declares it (the local backend creates it with a stream)."""
        return _spec(role, self.source_table(role), self.migration.source(role), stream=True)

    def v3_spec(self) -> TableSpec:
        return _spec("v3", self.v3_table, self.migration.target, stream=False)

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
        return tuple(self.source_spec(role) for role in self.roles)

    def all_specs(self) -> tuple[TableSpec, ...]:
        return (*self.legacy_specs(), self.v3_spec(), *self.own_specs(), self.api_spec())


def _spec(role: str, name: str, table: _Table, *, stream: bool) -> TableSpec:
    indexes = []
    for ix in table.indexes:
        projection = ix.projection
        keys = table.index_key_names(ix)
        indexes.append(
            Index(
                ix.name,
                keys[0],
                keys[1] if len(keys) > 1 else None,
                projection if isinstance(projection, str) else "INCLUDE",
                () if isinstance(projection, str) else tuple(projection),
            )
        )
    return TableSpec(
        role,
        name,
        table.hash_key.name,
        None if table.range_key is None else table.range_key.name,
        indexes=tuple(indexes),
        stream=stream,
        attribute_types=dict(table.attribute_types),
    )
