"""The migration definition: the one object a team writes to move its own tables (issue 18).

It declares exactly what the engine's guarantees need and nothing else: which source tables exist
and their keys (`Source`), the target table's key and indexes (`Target`), per source a pure
transform from one legacy item to the list of target items it becomes, the secrets a transform
needs (`Secret`), and per target item kind an optional inverse (`Inverse`, for the write cut-over).

    MIGRATION = Migration(
        name="catalog",
        target=Target(table="{service}-{stage}-catalog", hash_key=Key("pk"), range_key=Key("sk")),
        sources=(Source(role="products", table="{service}-{stage}-products", hash_key=Key("sku"),
                        transform=products),),
    )

Foundation layer: pure (no AWS SDK, no I/O), so a definition imports it anywhere, Lambda included.
A definition is validated when it is built: every mistake is a one-line `MigrationError` naming
the field and the fix. `Migration.transform` calls the user's transform and then enforces the
engine's own output checks, so nothing the engine cannot write (or would write over itself)
ever leaves it: every failure is a `TransformError` subclass, quarantined, never a crash.

Items are plain values as boto3's TypeDeserializer produces them: str, Decimal, bool, None,
dict, list, sets, and boto3's `Binary` (or bytes) for B.
"""

from __future__ import annotations

import inspect
import re
import string
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Context, Decimal
from functools import cached_property
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

from cutover.ddb_values import binary_bytes
from cutover.errors import ConfigError
from cutover.transform_errors import (
    DuplicateTargetKeyError,
    InvalidIndexKeyError,
    InvalidOutputError,
    InvalidTargetKeyError,
    ItemKey,
    MissingImageError,
    MissingKeyError,
    ReservedAttributeError,
    TransformError,
    key_text,
    shown,
)

__all__ = [
    "DuplicateTargetKeyError",
    "Index",
    "InvalidIndexKeyError",
    "InvalidOutputError",
    "InvalidTargetKeyError",
    "Inverse",
    "Item",
    "ItemKey",
    "Key",
    "KeyType",
    "Migration",
    "MigrationError",
    "MissingImageError",
    "MissingKeyError",
    "ReservedAttributeError",
    "Secret",
    "Secrets",
    "Source",
    "Target",
    "TransformError",
    "canonical",
    "key_text",
    "shown",
]

KeyType: TypeAlias = Literal["S", "N", "B"]
Projection: TypeAlias = Literal["ALL", "KEYS_ONLY"] | tuple[str, ...]
Item: TypeAlias = dict[str, Any]
KEY_TYPES: tuple[str, ...] = ("S", "N", "B")
PLACEHOLDERS = frozenset({"service", "stage"})
# Names a role would collide with: `--table all`, and the other tables `cutover status` lists beside the sources.
RESERVED_ROLES = frozenset({"all", "target", "v3", "checkpoints", "quarantine", "reports", "api"})
MAX_INDEXES = 20  # DynamoDB's default quota of GSIs per table

_SAFE_ID = re.compile(r"^[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?$")  # appears in resource names (queues, ...)
_MIGRATION_NAME = re.compile(r"^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$")
_INDEX_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_PARAMETER = re.compile(r"^(/[A-Za-z0-9_.-]+)+$")
_DISTRIBUTION = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")  # PEP 508 names, no version
_TYPE_WORD = {"S": "string", "N": "number", "B": "binary"}
_MAX_DIGITS = 38
_ABSENT = object()
_MIN_EXPONENT, _MAX_EXPONENT = -130, 125  # DynamoDB numbers: magnitude 1E-130 .. 9.99..9E+125


class MigrationError(ConfigError):
    """A migration definition that cannot be used: one line naming the field and the fix (exit 2)."""


class UnknownRoleError(MigrationError):
    def __init__(self, migration: str, role: str, roles: Sequence[str]) -> None:
        super().__init__(f"migration {migration!r} has no source {role!r}: use one of {', '.join(roles)}")


# --- the declarations -----------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One key attribute: its name and DynamoDB type (S string, N number, B binary)."""

    name: str
    type: KeyType = "S"


@dataclass(frozen=True)
class Index:
    """A global secondary index. A key given as a plain name refers to an attribute whose type the
    table declares elsewhere (its own key, or another index's `Key`). `projection` is "ALL",
    "KEYS_ONLY", or a tuple of non-key attribute names (INCLUDE)."""

    name: str
    hash_key: Key | str
    range_key: Key | str | None = None
    projection: Projection = "ALL"


class _Table:
    """What a source and the target share: a name template, a key schema and indexes (a mixin:
    each dataclass below declares the fields itself, in its own order)."""

    table: str
    hash_key: Key
    range_key: Key | None
    indexes: tuple[Index, ...]

    @property
    def keys(self) -> tuple[Key, ...]:
        return (self.hash_key,) if self.range_key is None else (self.hash_key, self.range_key)

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys)

    @cached_property
    def attribute_types(self) -> Mapping[str, KeyType]:
        """Every key attribute of the table and of its indexes, with its type (AttributeDefinitions)."""
        return MappingProxyType(_declared_types(self, "table"))

    @cached_property
    def index_keys(self) -> Mapping[str, tuple[KeyType, str]]:
        """Index key attributes that are not table keys: name -> (type, first index keyed on it)."""
        types, own = self.attribute_types, set(self.key_names)
        out: dict[str, tuple[KeyType, str]] = {}
        for ix in self.indexes:
            for ref in (ix.hash_key, ix.range_key):
                name = _ref_name(ref)
                if name is not None and name not in own and name not in out:
                    out[name] = (types[name], ix.name)
        return MappingProxyType(out)

    def index_key_names(self, index: Index) -> tuple[str, ...]:
        return tuple(n for n in (_ref_name(index.hash_key), _ref_name(index.range_key)) if n is not None)


@dataclass(frozen=True, kw_only=True)
class Target(_Table):
    """The target table: name template (`{service}`, `{stage}`), key and GSIs. cutover creates it."""

    table: str
    hash_key: Key
    range_key: Key | None = None
    indexes: tuple[Index, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Source(_Table):
    """One legacy table and its transform.

    `role` names the source everywhere (resource names, `--table`, quarantine): lowercase letters,
    digits and hyphens. `table` is a name template, still overridable per deployment for tables
    named by hand. `indexes` are the GSIs the application uses on it (the local backend creates
    them). `transform(item)` -- or `transform(item, secrets)` when `secrets` names any -- returns
    the target items this legacy item becomes: [] means "not migrated" (counted, never lost),
    several are a fan-out. It is pure: a deterministic function of (item, secret versions).
    """

    role: str
    table: str
    hash_key: Key
    transform: Callable[..., Sequence[Mapping[str, Any]]]
    range_key: Key | None = None
    indexes: tuple[Index, ...] = ()
    secrets: tuple[str, ...] = ()
    # The target keys an item occupies, from its source key alone, where they depend on nothing else
    # (e.g. one fixed sort key under the source's hash key). Lets a REMOVE that carries no OldImage still
    # find its target items; without it such a REMOVE is quarantined.
    target_keys_of_key: Callable[[Mapping[str, Any]], Sequence[Mapping[str, Any]]] | None = None


@dataclass(frozen=True, kw_only=True)
class Secret:
    """A value a transform needs (a key to hash a personal field while it moves).

    `parameter` is an SSM SecureString name template under `/{service}/{stage}/`, so a function
    can check a secret belongs to its own stage before reading it. `version` is pinned for the
    whole migration: a rotation would make every reconcile report differences, so rotating is an
    explicit operator decision, never a cache expiry. `test_value` is what `cutover check` and
    local runs use.
    """

    name: str
    parameter: str
    version: int
    test_value: str | bytes

    def parameter_name(self, service: str, stage: str) -> str:
        return table_name(self.parameter, service, stage)

    def selector(self, service: str, stage: str, version: int | None = None) -> str:
        """The name SSM's GetParameter takes to read exactly one version (`name:version`; default
        the definition's pin, which a recorded rotation replaces: `cutover.secret_pins`)."""
        return f"{self.parameter_name(service, stage)}:{self.version if version is None else version}"


class Secrets(Mapping[str, str | bytes]):
    """The read-only secrets a transform receives: name -> value, and the pinned versions."""

    def __init__(self, values: Mapping[str, str | bytes], versions: Mapping[str, int] | None = None) -> None:
        self._values = dict(values)
        self.versions: Mapping[str, int] = MappingProxyType(dict(versions or {}))

    def __getitem__(self, name: str) -> str | bytes:
        try:
            return self._values[name]
        except KeyError:
            raise KeyError(f"secret {name!r} is not given to this transform: name it in the Source's secrets") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:  # never print a secret's value
        return f"Secrets({sorted(self._values)}, versions={dict(self.versions)})"

    def only(self, names: Iterable[str]) -> Secrets:
        wanted = tuple(names)
        return Secrets(
            {n: self._values[n] for n in wanted}, {n: self.versions[n] for n in wanted if n in self.versions}
        )


@dataclass(frozen=True, kw_only=True, eq=False)  # identity: hashable, though it holds a mapping
class Inverse:
    """Target item -> source item, for one kind of target item (the write cut-over builds on it).

    `matches(item)` says whether a target item is of this kind; `inverse(item)` rebuilds the
    source item. `keeps` names the source attributes that round-trip (None: all of them); `lossy`
    names the attributes that do not, each with the reason (normalised, hashed, derived). An
    attribute in `lossy` is skipped by both round-trip properties of `cutover check`.
    """

    kind: str
    source: str
    matches: Callable[[Mapping[str, Any]], bool]
    inverse: Callable[[Mapping[str, Any]], Mapping[str, Any]]
    keeps: frozenset[str] | None = None
    lossy: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, eq=False)  # identity: a process has one; hashable (caches key on it)
class Migration:
    """A complete definition. Validated when built (`MigrationError`, one line)."""

    name: str
    target: Target
    sources: tuple[Source, ...]
    inverses: tuple[Inverse, ...] = ()
    secrets: tuple[Secret, ...] = ()
    strategies: Mapping[str, Callable[[], Any]] = field(default_factory=dict)
    # Third-party distributions (PyPI names) the definition's code imports. Synth copies them and
    # what they require from the Python it runs in into the Lambda bundle (pure Python only; the
    # runtime's boto3 and the layer's Powertools/pydantic are never copied), and refuses a
    # definition whose imports the bundle cannot satisfy (infra/constructs/distributions.py).
    requires: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("sources", "inverses", "secrets", "requires"):  # accept lists; keep the definition immutable
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        if isinstance(self.strategies, Mapping):
            object.__setattr__(self, "strategies", MappingProxyType(dict(self.strategies)))
        _validate(self)

    # --- lookups ------------------------------------------------------------------------------
    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(s.role for s in self.sources)

    def source(self, role: str) -> Source:
        found = self._by_role.get(role)
        if found is None:
            raise UnknownRoleError(self.name, role, self.roles)
        return found

    @cached_property
    def _by_role(self) -> Mapping[str, Source]:
        return {s.role: s for s in self.sources}

    @cached_property
    def _single_string_key(self) -> Mapping[str, str]:
        """role -> its key attribute, for sources keyed by one string (the per-item fast path)."""
        return MappingProxyType(
            {s.role: s.hash_key.name for s in self.sources if len(s.keys) == 1 and s.hash_key.type == "S"}
        )

    @cached_property
    def _output_checks(
        self,
    ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...], tuple[str, ...], tuple[tuple[str, str], ...]]:
        """What `check_output`'s fast path tests: target keys of type S, other target keys (name, type),
        index keys of type S, other index keys (name, type)."""
        target = self.target
        index = [(name, kind) for name, (kind, _) in target.index_keys.items()]
        return (
            tuple(k.name for k in target.keys if k.type == "S"),
            tuple((k.name, k.type) for k in target.keys if k.type != "S"),
            tuple(name for name, kind in index if kind == "S"),
            tuple((name, kind) for name, kind in index if kind != "S"),
        )

    def secret(self, name: str) -> Secret:
        for s in self.secrets:
            if s.name == name:
                return s
        raise MigrationError(f"migration {self.name!r} has no secret {name!r}")

    def inverses_of(self, role: str) -> tuple[Inverse, ...]:
        return tuple(i for i in self.inverses if i.source == role)

    def target_table(self, service: str, stage: str) -> str:
        return table_name(self.target.table, service, stage)

    def source_table(self, role: str, service: str, stage: str) -> str:
        """The source's default table name (a deployment may still name its legacy table by hand)."""
        return table_name(self.source(role).table, service, stage)

    def bind_secrets(self, provider: Callable[[], Secrets]) -> None:
        """Where this process reads the secrets its transforms need: called once, on first need.

        Bound at the edge (CLI settings, Lambda cold start) so no engine path threads secrets
        through: local backends bind `test_secrets`, AWS the stage-checked SSM reader at the
        pinned versions (`cutover.transform_secrets`). A later binding replaces an unused one.
        """
        cell = self.__dict__.setdefault("_secrets_cell", {})
        cell.clear()
        cell["provider"] = provider

    def bound_secrets(self) -> Secrets | None:
        """The bound secrets (read on first call, then kept: versions are pinned), or None."""
        cell = self.__dict__.get("_secrets_cell") or {}
        if "value" not in cell and "provider" in cell:
            cell["value"] = cell["provider"]()
        value = cell.get("value")
        return value if isinstance(value, Secrets) else None

    def test_secrets(self) -> Secrets:
        """Every declared secret's test value, at its pinned version (`cutover check`, local runs)."""
        return Secrets({s.name: s.test_value for s in self.secrets}, {s.name: s.version for s in self.secrets})

    # --- keys ---------------------------------------------------------------------------------
    def source_key(self, role: str, item: Mapping[str, Any]) -> tuple[Any, ...]:
        """The item's primary key values (hash, then range), checked against the declared types.

        Raises:
            MissingKeyError: a key attribute is absent, of another type, or an empty string/binary.
        """
        source = self.source(role)
        values = []
        for position, key in enumerate(source.keys):
            value = item.get(key.name)
            if not _is_key_value(value, key.type):
                if len(source.keys) == 1 and key.type == "S":  # the seed's message, byte for byte
                    raise MissingKeyError(role, value, f"has no string {key.name} (its primary key)")
                part = "its primary key" if len(source.keys) == 1 else f"its {('hash', 'range')[position]} key"
                raise MissingKeyError(
                    role, None, f"has no {_TYPE_WORD[key.type]} {key.name} ({part}), got {shown(value)}"
                )
            values.append(value)
        return tuple(values)

    def source_key_label(self, role: str, item: Mapping[str, Any]) -> object:
        """How errors and quarantine name this item: the bare string for a single string key, else
        an `ItemKey` (canonical JSON). Raises MissingKeyError like `source_key`."""
        source = self.source(role)
        values = self.source_key(role, item)
        if len(values) == 1 and source.hash_key.type == "S":
            return values[0]
        return ItemKey(source.key_names, values)

    def source_key_text(self, role: str, item: Mapping[str, Any]) -> str:
        """The item's key as quarantine stores it and `--key` accepts it."""
        text = key_text(self.source_key_label(role, item))
        assert text is not None  # source_key raised for anything unusable
        return text

    def parse_source_key(self, role: str, text: str) -> dict[str, Any]:
        """A key as `source_key_text` wrote it -> the item's key attributes (for `--key`).

        Raises:
            MigrationError: not a key of this source (names the expected form).
        """
        import base64
        import json

        source = self.source(role)
        example = "a plain string" if len(source.keys) == 1 and source.hash_key.type == "S" else "JSON"
        if len(source.keys) == 1 and source.hash_key.type == "S":
            if text:
                return {source.hash_key.name: text}
            raise MigrationError(f"--key for {role} is empty: give its {source.hash_key.name}")
        try:
            raw = json.loads(text, parse_float=Decimal, parse_int=Decimal)
        except json.JSONDecodeError:
            raw = None
        form = "{" + ",".join(f'"{k.name}":<{_TYPE_WORD[k.type]}>' for k in source.keys) + "}"
        if not isinstance(raw, dict) or set(raw) != set(source.key_names):
            raise MigrationError(f"--key {text!r} is not a {role} key: give {example} {form}")
        out: dict[str, Any] = {}
        for key in source.keys:
            value = raw[key.name]
            if key.type == "B" and isinstance(value, dict) and set(value) == {"B"} and isinstance(value["B"], str):
                value = base64.b64decode(value["B"])
            if not _is_key_value(value, key.type):
                raise MigrationError(f"--key {text!r}: {key.name} must be a {_TYPE_WORD[key.type]}: give {form}")
            out[key.name] = value
        return out

    def target_key(self, item: Mapping[str, Any]) -> tuple[Any, ...]:
        """A target item's key values (hash, then range).

        Raises:
            InvalidTargetKeyError: a key attribute is absent or of another type.
        """
        values = []
        for key in self.target.keys:
            value = item.get(key.name)
            if not _is_key_value(value, key.type):
                raise InvalidTargetKeyError(
                    "target", None, f"has no {_TYPE_WORD[key.type]} {key.name} (the target's key), got {shown(value)}"
                )
            values.append(value)
        return tuple(values)

    def target_keys(self, role: str, item: Mapping[str, Any], secrets: Secrets | None = None) -> list[tuple[Any, ...]]:
        """The target keys this source item occupies, or [] if it is not writable (bad input)."""
        try:
            return [self.target_key(out) for out in self.transform(role, item, secrets)]
        except TransformError:
            return []

    def target_keys_of_deleted(self, role: str, keys: Mapping[str, Any]) -> list[tuple[Any, ...]] | None:
        """For a delete seen without its old image: the target keys from the source key alone, or
        None when the definition cannot tell (`Source.target_keys_of_key` not given)."""
        derive = self.source(role).target_keys_of_key
        if derive is None:
            return None
        return [self.target_key(k) for k in derive(keys)]

    # --- the transform ------------------------------------------------------------------------
    def call_transform(self, role: str, item: Mapping[str, Any], secrets: Secrets | None = None) -> Any:
        """The user's transform alone (what `cutover check` proves), with the engine's promise to it:
        it is called only with the source's key attributes present and of the declared types, and
        with the secrets it declared; a TransformError it raises is named by the role and the
        canonical key (a transform may pass any key, None included).

        Raises:
            MissingKeyError: the item has no usable key (the transform is not called).
            TransformError: the transform's own, renamed.
            MigrationError: the source declares secrets and none (or not all) were passed.
        """
        source = self.source(role)
        name = self._single_string_key.get(role)
        label = item.get(name) if name is not None else None
        if type(label) is not str or not label:
            label = self.source_key_label(role, item)  # composite or typed keys; raises MissingKeyError
        try:
            if not source.secrets:
                return source.transform(item)
            if secrets is None:
                secrets = self.bound_secrets()
            if secrets is None or any(n not in secrets for n in source.secrets):
                missing = [n for n in source.secrets if secrets is None or n not in secrets]
                raise MigrationError(
                    f"source {role!r} of migration {self.name!r} needs secret(s) {', '.join(missing)}: "
                    "read them (Migration.test_secrets() for check and local runs)"
                )
            return source.transform(item, secrets.only(source.secrets))
        except TransformError as err:
            if err.source != role or type(err.key) is not type(label) or err.key != label:
                err.rekey(role, label)
            raise

    def transform(self, role: str, item: Mapping[str, Any], secrets: Secrets | None = None) -> list[Item]:
        """The target items `item` becomes: the user's transform, then the engine's output checks.

        Raises:
            TransformError: bad input (see `call_transform`), or output the engine will not write
                (see `check_output`).
        """
        return self.check_output(role, item, self.call_transform(role, item, secrets))

    def check_output(self, role: str, item: Mapping[str, Any], out: Any) -> list[Item]:
        """Enforce what the engine needs of a transform's result and return it as a list of dicts:
        a list of mappings; each with the target key of the declared types; index keys, where
        present, of the declared types (and non-empty); no `_` attribute (cutover's bookkeeping);
        distinct target keys within the one call.

        Raises:
            InvalidOutputError, InvalidTargetKeyError, InvalidIndexKeyError, ReservedAttributeError,
            DuplicateTargetKeyError: with the role, the item's key and the fix.
        """
        # The per-item path: plain checks only; anything unusual is explained (and raised) below.
        if type(out) is list and len(out) == 1:
            produced = out[0]
            if type(produced) is dict:
                strings, others, index_strings, index_others = self._output_checks
                for name in strings:
                    value = produced.get(name)
                    if type(value) is not str or not value:
                        return self._explain_output(role, item, out)
                for name, kind in others:
                    if not _is_key_value(produced.get(name), kind):
                        return self._explain_output(role, item, out)
                for name in index_strings:
                    value = produced.get(name, _ABSENT)
                    if value is not _ABSENT and (type(value) is not str or not value):
                        return self._explain_output(role, item, out)
                for name, kind in index_others:
                    value = produced.get(name, _ABSENT)
                    if value is not _ABSENT and not _is_key_value(value, kind):
                        return self._explain_output(role, item, out)
                for name in produced:
                    if type(name) is not str or not name or name[0] == "_":
                        return self._explain_output(role, item, out)
                return out
        return self._explain_output(role, item, out)

    def _explain_output(self, role: str, item: Mapping[str, Any], out: Any) -> list[Item]:
        """`check_output` in full: the first problem raised with its message, or the items as a list of dicts."""
        if not isinstance(out, (list, tuple)):
            raise InvalidOutputError(
                role,
                _label(self, role, item),
                f"the transform returned {shown(out)}, not a list of items: "
                "return [] (not migrated), [item] or several",
            )
        target, index_keys = self.target, self.target.index_keys
        items: list[Item] = []
        seen: dict[tuple[Any, ...], int] = {}
        for position, produced in enumerate(out):
            where = "the item it returned" if len(out) == 1 else f"item {position} it returned"
            if not isinstance(produced, Mapping) or not all(isinstance(n, str) and n for n in produced):
                raise InvalidOutputError(
                    role,
                    _label(self, role, item),
                    f"{where} is {shown(produced)}, not a mapping of non-empty attribute names: return dicts",
                )
            owned = sorted(n for n in produced if n.startswith("_"))
            if owned:
                raise ReservedAttributeError(
                    role,
                    _label(self, role, item),
                    f"{where} carries attribute(s) {', '.join(owned)}; names beginning with _ are cutover's "
                    "bookkeeping: drop or rename them in the transform",
                )
            key: list[Any] = []
            for which, k in zip(("hash", "range"), target.keys, strict=False):
                value = produced.get(k.name)
                if not _is_key_value(value, k.type):
                    raise InvalidTargetKeyError(
                        role,
                        _label(self, role, item),
                        f"{where} has no {_TYPE_WORD[k.type]} {k.name} (the target's {which} key), got "
                        f"{shown(value)}: set it on every item the transform returns",
                    )
                key.append(value)
            for name, (kind, index) in index_keys.items():
                if name in produced and not _is_key_value(produced[name], kind):
                    raise InvalidIndexKeyError(
                        role,
                        _label(self, role, item),
                        f"{name} is a key of the target index {index} and must be a "
                        f"{_non_empty(kind)}, got {shown(produced[name])}; fix or remove {name} at the source",
                    )
            first = seen.setdefault(canonical(key), position)
            if first != position:
                raise DuplicateTargetKeyError(
                    role,
                    _label(self, role, item),
                    f"items {first} and {position} it returned share the target key "
                    f"{ItemKey(target.key_names, tuple(produced[k.name] for k in target.keys)).text}: "
                    "give each item its own key",
                )
            items.append(produced if type(produced) is dict else dict(produced))
        return items


# --- helpers ----------------------------------------------------------------------------------


def table_name(template: str, service: str, stage: str) -> str:
    """A name template with `{service}` and `{stage}` filled in."""
    return template.format(service=service, stage=stage)


def _ref_name(ref: Key | str | None) -> str | None:
    if ref is None:
        return None
    return ref.name if isinstance(ref, Key) else ref


def _non_empty(kind: str) -> str:
    return {"S": "non-empty string", "N": "number", "B": "non-empty binary"}[kind]


def exact_digits(number: Decimal) -> tuple[int, ...]:
    """The significant digits of a finite number, leading and trailing zeros trimmed, without
    rounding (Decimal.normalize() rounds to the context's 28 digits; DynamoDB keeps 38)."""
    digits = list(number.as_tuple().digits)
    while len(digits) > 1 and digits[-1] == 0:
        digits.pop()
    while len(digits) > 1 and digits[0] == 0:
        digits.pop(0)
    return tuple(digits)


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return False
    number = Decimal(value)
    if not number.is_finite():
        return False
    if number.is_zero():
        return True
    return len(exact_digits(number)) <= _MAX_DIGITS and _MIN_EXPONENT <= number.adjusted() <= _MAX_EXPONENT


def _is_key_value(value: object, kind: str) -> bool:
    """A value DynamoDB accepts as a key (or index key) attribute of type `kind`."""
    if kind == "S":
        return isinstance(value, str) and value != ""
    if kind == "N":
        return _is_number(value)
    raw = binary_bytes(value)
    return raw is not None and len(raw) > 0


def canonical(values: Sequence[Any]) -> tuple[Any, ...]:
    """Key values in one form per DynamoDB value, for comparing and hashing keys: 1.50 and 1.5 are
    one number, boto3's Binary and bytes one binary, and a string is never equal to a binary."""
    out: list[Any] = []
    for value in values:
        if isinstance(value, str):
            out.append(value)
            continue
        raw = binary_bytes(value)
        if raw is not None:
            out.append(("B", raw))
            continue
        number = Decimal(value)
        exact = number.normalize(Context(prec=max(1, len(number.as_tuple().digits))))
        out.append(("N", exact))
    return tuple(out)


def _label(migration: Migration, role: str, item: Mapping[str, Any]) -> object:
    try:
        return migration.source_key_label(role, item)
    except MissingKeyError:
        return None


# --- validation -------------------------------------------------------------------------------


def _fail(migration: str, where: str, problem: str) -> MigrationError:
    return MigrationError(f"migration {migration!r}: {where}: {problem}")


def _placeholders(template: str) -> list[str] | None:
    """The `{...}` fields of a template, or None if its braces are malformed."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return None
    fields = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if spec or conversion:
            return None
        fields.append(name)
    return fields


def _check_template(m: str, where: str, template: object, *, need_stage: bool) -> None:
    if not isinstance(template, str) or not template:
        raise _fail(m, where, f"{template!r} is not a name template: write e.g. '{{service}}-{{stage}}-legacy'")
    fields = _placeholders(template)
    if fields is None:
        raise _fail(m, where, f"{template!r} has malformed braces: use only {{service}} and {{stage}}")
    unknown = sorted(set(fields) - PLACEHOLDERS)
    if unknown:
        raise _fail(
            m,
            where,
            f"{template!r} has unknown placeholder(s) {', '.join(unknown)}: use only {{service}} and {{stage}}",
        )
    if need_stage and "stage" not in fields:
        raise _fail(
            m, where, f"{template!r} has no {{stage}}: two stages in one account would share the table; add {{stage}}"
        )


def _check_key(m: str, where: str, key: object) -> None:
    if not isinstance(key, Key):
        raise _fail(m, where, f"{key!r} is not a Key: write Key('name', 'S') (type S, N or B)")
    if not isinstance(key.name, str) or not key.name:
        raise _fail(m, where, "a key attribute needs a non-empty name: write Key('name', 'S')")
    if key.name.startswith("_"):
        raise _fail(m, where, f"key attribute {key.name!r} begins with _, which is cutover's bookkeeping: rename it")
    if key.type not in KEY_TYPES:
        raise _fail(m, where, f"key {key.name!r} has type {key.type!r}: DynamoDB keys are S, N or B")


def _declared_types(table: _Table, where: str, migration: str = "?") -> dict[str, KeyType]:
    """name -> type for every key attribute of the table and its indexes; a plain-name index key
    takes the type declared elsewhere on the table; a name declared twice must agree."""
    declared: dict[str, tuple[KeyType, str]] = {}

    def declare(key: Key, place: str) -> None:
        known = declared.get(key.name)
        if known is not None and known[0] != key.type:
            raise _fail(
                migration,
                place,
                f"{key.name!r} is declared {key.type} here but {known[0]} at {known[1]}: "
                "an attribute has one type per table; make them agree",
            )
        declared.setdefault(key.name, (key.type, place))

    for which, key in zip(("hash_key", "range_key"), table.keys, strict=False):
        declare(key, f"{where}.{which}")
    for i, ix in enumerate(table.indexes):
        for which, ref in (("hash_key", ix.hash_key), ("range_key", ix.range_key)):
            if isinstance(ref, Key):
                declare(ref, f"{where}.indexes[{i}] ({ix.name}).{which}")
    for i, ix in enumerate(table.indexes):
        for which, ref in (("hash_key", ix.hash_key), ("range_key", ix.range_key)):
            if isinstance(ref, str) and ref not in declared:
                raise _fail(
                    migration,
                    f"{where}.indexes[{i}] ({ix.name}).{which}",
                    f"{ref!r} has no declared type: write Key({ref!r}, 'S') (or 'N', 'B') here",
                )
    return {name: kind for name, (kind, _) in declared.items()}


def _check_table(m: str, where: str, table: _Table, *, need_stage: bool) -> None:
    _check_template(m, f"{where}.table", table.table, need_stage=need_stage)
    sample = table_name(table.table, "my-service", "staging")
    if not _TABLE_NAME.match(sample):
        raise _fail(
            m, f"{where}.table", f"{table.table!r} gives {sample!r}, not a DynamoDB table name (3-255 of A-Za-z0-9_.-)"
        )
    _check_key(m, f"{where}.hash_key", table.hash_key)
    if table.range_key is not None:
        _check_key(m, f"{where}.range_key", table.range_key)
        if table.range_key.name == table.hash_key.name:
            raise _fail(m, f"{where}.range_key", f"{table.range_key.name!r} is also the hash key: pick another")
    if not isinstance(table.indexes, tuple) or not all(isinstance(ix, Index) for ix in table.indexes):
        raise _fail(m, f"{where}.indexes", "must be a tuple of Index(...)")
    if len(table.indexes) > MAX_INDEXES:
        raise _fail(m, f"{where}.indexes", f"{len(table.indexes)} indexes: DynamoDB allows {MAX_INDEXES} per table")
    names: set[str] = set()
    for i, ix in enumerate(table.indexes):
        place = f"{where}.indexes[{i}]"
        if not isinstance(ix.name, str) or not _INDEX_NAME.match(ix.name):
            raise _fail(m, f"{place}.name", f"{ix.name!r} is not an index name (3-255 of A-Za-z0-9_.-)")
        if ix.name in names:
            raise _fail(m, f"{place}.name", f"two indexes are named {ix.name!r}: rename one")
        names.add(ix.name)
        for which, ref in (("hash_key", ix.hash_key), ("range_key", ix.range_key)):
            if ref is None and which == "range_key":
                continue
            if isinstance(ref, Key):
                _check_key(m, f"{place} ({ix.name}).{which}", ref)
            elif not isinstance(ref, str) or not ref or ref.startswith("_"):
                raise _fail(m, f"{place} ({ix.name}).{which}", f"{ref!r} is not a key: write Key('name', 'S')")
        if _ref_name(ix.hash_key) == _ref_name(ix.range_key):
            raise _fail(m, f"{place} ({ix.name}).range_key", "is also the index's hash key: pick another")
        projection = ix.projection
        if isinstance(projection, tuple):
            if not projection or not all(isinstance(a, str) and a for a in projection):
                raise _fail(m, f"{place} ({ix.name}).projection", "INCLUDE needs non-empty attribute names")
            if len(set(projection)) != len(projection):
                raise _fail(m, f"{place} ({ix.name}).projection", "names an attribute twice: list each once")
        elif projection not in ("ALL", "KEYS_ONLY"):
            raise _fail(
                m,
                f"{place} ({ix.name}).projection",
                f"{projection!r}: use 'ALL', 'KEYS_ONLY' or a tuple of attribute names (INCLUDE)",
            )
    _declared_types(table, where, m)


def _arity_fits(func: Callable[..., Any], count: int) -> bool | None:
    """Whether `func` can be called with exactly `count` positional arguments (None: unknowable)."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(*([None] * count))
    except TypeError:
        return False
    return True


def _check_callable(m: str, where: str, func: object, count: int, shape: str) -> None:
    if not callable(func):
        raise _fail(m, where, f"{func!r} is not callable: give a function {shape}")
    if _arity_fits(func, count) is False:
        raise _fail(m, where, f"{getattr(func, '__name__', func)!r} cannot be called as {shape}: change its parameters")


def _validate(mig: Migration) -> None:
    m = mig.name if isinstance(mig.name, str) else "?"
    if not isinstance(mig.name, str) or not _MIGRATION_NAME.match(mig.name):
        raise _fail(m, "name", "use lowercase letters, digits and hyphens (at most 40, starting with a letter)")
    if not isinstance(mig.target, Target):
        raise _fail(m, "target", f"{shown(mig.target)} is not a Target: write Target(table=..., hash_key=Key(...))")
    _check_table(m, "target", mig.target, need_stage=True)
    _check_no_index_holds_tombstones(m, mig.target)
    if mig.target.table.startswith("{service}-{stage}-cutover"):
        raise _fail(m, "target.table", "names beginning {service}-{stage}-cutover are cutover's own: rename it")

    secrets: dict[str, Secret] = {}
    parameters: set[str] = set()
    for i, secret in enumerate(mig.secrets):
        where = f"secrets[{i}]"
        if not isinstance(secret, Secret):
            raise _fail(
                m, where, f"{shown(secret)} is not a Secret(name=..., parameter=..., version=..., test_value=...)"
            )
        if not isinstance(secret.name, str) or not _SAFE_ID.match(secret.name):
            raise _fail(m, f"{where}.name", f"{secret.name!r}: use lowercase letters, digits and hyphens (at most 20)")
        if secret.name in secrets:
            raise _fail(m, f"{where}.name", f"two secrets are named {secret.name!r}: rename one")
        _check_template(m, f"{where}.parameter", secret.parameter, need_stage=True)
        if not secret.parameter.startswith("/{service}/{stage}/") or not _PARAMETER.match(
            table_name(secret.parameter, "my-service", "staging")
        ):
            raise _fail(
                m,
                f"{where}.parameter",
                f"{secret.parameter!r}: name it /{{service}}/{{stage}}/<path> (A-Za-z0-9_.- segments) so each "
                "stage reads only its own",
            )
        if secret.parameter in parameters:
            raise _fail(m, f"{where}.parameter", f"{secret.parameter!r} is also another secret's: give each its own")
        if isinstance(secret.version, bool) or not isinstance(secret.version, int) or secret.version < 1:
            raise _fail(m, f"{where}.version", f"{secret.version!r}: pin the parameter version, an integer from 1")
        if not isinstance(secret.test_value, (str, bytes)) or not secret.test_value:
            raise _fail(m, f"{where}.test_value", "give a non-empty str or bytes for `cutover check` and local runs")
        secrets[secret.name] = secret
        parameters.add(secret.parameter)

    if not isinstance(mig.sources, tuple) or not mig.sources:
        raise _fail(m, "sources", "declare at least one Source(...)")
    roles: dict[str, int] = {}
    templates: dict[str, str] = {mig.target.table: "the target"}
    for i, source in enumerate(mig.sources):
        where = f"sources[{i}]"
        if not isinstance(source, Source):
            raise _fail(m, where, f"{shown(source)} is not a Source(role=..., table=..., hash_key=..., transform=...)")
        role = source.role
        if not isinstance(role, str) or not _SAFE_ID.match(role):
            raise _fail(
                m,
                f"{where}.role",
                f"{role!r}: a role appears in resource names; use lowercase letters, digits and hyphens, "
                "starting with a letter (at most 20)",
            )
        if role in RESERVED_ROLES:
            raise _fail(m, f"{where}.role", f"{role!r} is reserved ({', '.join(sorted(RESERVED_ROLES))}): rename it")
        if role in roles:
            raise _fail(m, f"{where}.role", f"sources[{roles[role]}] has role {role!r} too: give each source its own")
        roles[role] = i
        where = f"{where} ({role})"
        _check_table(m, where, source, need_stage=False)
        if source.table in templates:
            raise _fail(
                m,
                f"{where}.table",
                f"{source.table!r} is also the table of {templates[source.table]}: one table per role",
            )
        templates[source.table] = f"source {role!r}"
        if not isinstance(source.secrets, tuple) or not all(isinstance(s, str) for s in source.secrets):
            raise _fail(m, f"{where}.secrets", "must be a tuple of secret names")
        if len(set(source.secrets)) != len(source.secrets):
            raise _fail(m, f"{where}.secrets", "names a secret twice: list each once")
        for name in source.secrets:
            if name not in secrets:
                raise _fail(
                    m,
                    f"{where}.secrets",
                    f"{name!r} is not declared: add Secret(name={name!r}, ...) to the migration's secrets",
                )
        shape = "transform(item, secrets)" if source.secrets else "transform(item)"
        _check_callable(m, f"{where}.transform", source.transform, 2 if source.secrets else 1, shape)
        if source.target_keys_of_key is not None:
            _check_callable(m, f"{where}.target_keys_of_key", source.target_keys_of_key, 1,
                            "target_keys_of_key(source_key) -> [target key, ...]")  # fmt: skip

    kinds: set[str] = set()
    for i, inv in enumerate(mig.inverses):
        where = f"inverses[{i}]"
        if not isinstance(inv, Inverse):
            raise _fail(m, where, f"{shown(inv)} is not an Inverse(kind=..., source=..., matches=..., inverse=...)")
        if not isinstance(inv.kind, str) or not _SAFE_ID.match(inv.kind):
            raise _fail(m, f"{where}.kind", f"{inv.kind!r}: use lowercase letters, digits and hyphens (at most 20)")
        if inv.kind in kinds:
            raise _fail(m, f"{where}.kind", f"two inverses are of kind {inv.kind!r}: one inverse per kind")
        kinds.add(inv.kind)
        if inv.source not in roles:
            raise _fail(
                m, f"{where}.source", f"{inv.source!r} is not a source role: use one of {', '.join(roles) or 'none'}"
            )
        _check_callable(m, f"{where}.matches", inv.matches, 1, "matches(target_item) -> bool")
        _check_callable(m, f"{where}.inverse", inv.inverse, 1, "inverse(target_item) -> source item")
        if inv.keeps is not None and (
            not isinstance(inv.keeps, frozenset) or not all(isinstance(a, str) and a for a in inv.keeps)
        ):
            raise _fail(m, f"{where}.keeps", "give a frozenset of attribute names, or None for all of them")
        if not isinstance(inv.lossy, Mapping) or not all(
            isinstance(a, str) and a and isinstance(why, str) and why for a, why in inv.lossy.items()
        ):
            raise _fail(m, f"{where}.lossy", "give attribute name -> why it does not round-trip (both non-empty)")
        both = sorted((inv.keeps or frozenset()) & set(inv.lossy))
        if both:
            raise _fail(m, f"{where}.keeps", f"{', '.join(both)} also in lossy: an attribute round-trips or not")
        if not isinstance(inv.lossy, MappingProxyType):
            object.__setattr__(inv, "lossy", MappingProxyType(dict(inv.lossy)))

    _check_requires(m, mig.requires)

    if not isinstance(mig.strategies, Mapping):
        raise _fail(m, "strategies", "give source role -> a function returning a hypothesis strategy of items")
    for role, factory in mig.strategies.items():
        if role not in roles:
            raise _fail(m, f"strategies[{role!r}]", f"is not a source role: use one of {', '.join(roles)}")
        _check_callable(m, f"strategies[{role!r}]", factory, 0, "a function of no arguments returning a strategy")


def _check_no_index_holds_tombstones(m: str, target: Target) -> None:
    """A tombstone carries the target key and bookkeeping only, which is what keeps it out of every
    GSI (readers of an index never see a deleted item). An index keyed only on target key
    attributes (the inverted index `sk`/`pk`) would hold every tombstone."""
    keys = set(target.key_names)
    for i, ix in enumerate(target.indexes):
        names = {n for n in (_ref_name(ix.hash_key), _ref_name(ix.range_key)) if n is not None}
        if names <= keys:
            raise _fail(
                m,
                f"target.indexes[{i}] ({ix.name})",
                f"is keyed only on the target's key ({', '.join(sorted(names))}), so deleted items' tombstones "
                "would be in it: key it on attributes the transform sets (e.g. copy sk into gsi1pk)",
            )


def _check_requires(m: str, requires: object) -> None:
    """`requires` names distributions, each once; versions are the environment's business (synth
    copies what is installed, so a version pin belongs in the team's requirements file)."""
    if not isinstance(requires, tuple):
        raise _fail(m, "requires", 'give a tuple of distribution names, e.g. ("phonenumbers",)')
    seen: dict[str, int] = {}
    for i, name in enumerate(requires):
        if not isinstance(name, str) or not _DISTRIBUTION.match(name):
            raise _fail(
                m,
                f"requires[{i}]",
                f"{name!r} is not a distribution name: give the name alone (synth bundles the installed "
                "version; pin versions in your requirements file)",
            )
        normal = re.sub(r"[-_.]+", "-", name).lower()
        if normal in seen:
            raise _fail(m, f"requires[{i}]", f"{name!r} is requires[{seen[normal]}] again: list each once")
        seen[normal] = i
