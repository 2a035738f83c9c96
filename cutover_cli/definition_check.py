"""`cutover check`'s engine: prove a migration definition with hypothesis before anything runs.

Generated legacy items carry each source's key attributes of the declared types (strings
non-empty, numbers within DynamoDB's 38 digits, binaries as boto3's `Binary`) and arbitrary extra
attributes of every DynamoDB type (nested maps and lists, string/number/binary sets, binary,
empty strings, 38-digit numbers, booleans, null), some named like the target's own attributes;
a definition adds its own shapes through `Migration.strategies`. Properties, per source:

- the transform is deterministic (the same result twice) and does not mutate its input;
- bad input raises only `TransformError` subclasses (anything else is a bug in the transform);
- every output item carries the target key with the declared types, index keys of the declared
  types (non-empty strings and binaries), no `_` attribute, distinct keys within one call, and
  stays under DynamoDB's 400 KB;
- where an inverse is declared: inverse(transform(x)) == x on the attributes it keeps, and
  transform(inverse(y)) holds y for every target item y of that kind the transform produced;

and over generated batches of items of every source: two different source items never produce
the same target key. A source whose every generated item is rejected fails too ("exercised"):
nothing about its outputs would have been proven; a strategy of valid shapes fixes that. A
failure is shrunk by hypothesis and reported as `Failure` (the property and the smallest item).
"""

from __future__ import annotations

import base64
import copy
import json
import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from cutover.item_size import MAX_ITEM_BYTES, item_size
from cutover.migration import (
    DuplicateTargetKeyError,
    InvalidIndexKeyError,
    InvalidOutputError,
    InvalidTargetKeyError,
    Migration,
    ReservedAttributeError,
    Secrets,
    TransformError,
    canonical,
)

_MISSING = object()
PROPERTIES = {
    "deterministic": "the transform is deterministic (same result twice)",
    "pure": "the transform does not mutate its input",
    "only-transform-errors": "bad input raises only TransformError subclasses",
    "output-shape": "the transform returns a list of items",
    "target-key": "every output carries the target key with the declared types",
    "index-keys": "index keys have the declared types (strings and binaries non-empty)",
    "no-underscore": "no output attribute begins with _ (cutover's bookkeeping)",
    "distinct-in-call": "the items of one call have distinct target keys",
    "size": "every output stays under DynamoDB's 400 KB item size",
    "unique-keys": "two different source items never produce the same target key",
    "inverse-keeps": "inverse(transform(x)) equals x on the attributes it keeps",
    "inverse-roundtrip": "transform(inverse(y)) holds y for every y of the kind",
    "inverse-kind": "each target item is of at most one inverse kind, of its own source",
    "strategy": "a registered strategy produces items (mappings of attribute names)",
    "exercised": "some generated items are accepted, so the output properties are proven at all",
}
_BY_ERROR: tuple[tuple[type[TransformError], str], ...] = (
    (InvalidOutputError, "output-shape"),
    (InvalidTargetKeyError, "target-key"),
    (InvalidIndexKeyError, "index-keys"),
    (ReservedAttributeError, "no-underscore"),
    (DuplicateTargetKeyError, "distinct-in-call"),
)


@dataclass
class SourceStats:
    examples: int = 0
    items: int = 0
    rejected: int = 0
    not_migrated: int = 0
    largest_item_bytes: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "examples": self.examples,
            "items": self.items,
            "rejected": self.rejected,
            "not_migrated": self.not_migrated,
            "largest_item_bytes": self.largest_item_bytes,
            "reasons": dict(sorted(self.reasons.items())),
        }


@dataclass
class Failure(Exception):
    """A property that does not hold, with the (shrunk) item(s) that show it."""

    prop: str
    source: str
    detail: str
    items: tuple[Mapping[str, Any], ...]
    roles: tuple[str, ...] = ()  # each item's source, when they are of several

    def __str__(self) -> str:
        return f"{self.prop}: {self.detail}"

    def lines(self) -> list[str]:
        where = f" [{self.source}]" if self.source else ""
        out = [f"property: {self.prop}{where}: {PROPERTIES.get(self.prop, self.prop)}: {self.detail}"]
        roles = self.roles or ("",) * len(self.items)
        out += [f"item{f' [{r}]' if r else ''}: {ddb_json(item)}" for r, item in zip(roles, self.items, strict=True)]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "property": self.prop,
            "statement": PROPERTIES.get(self.prop, self.prop),
            "source": self.source,
            "detail": self.detail,
            "items": [json.loads(ddb_json(i)) for i in self.items],
            "roles": list(self.roles) or [self.source] * len(self.items),
        }


@dataclass
class Report:
    migration: str
    examples: int
    seed: int
    sources: dict[str, SourceStats]
    batches: int = 0
    batch_items: int = 0
    failure: Failure | None = None
    completed: list[str] = field(default_factory=list)  # sources (and "batches") whose properties all held

    @property
    def ok(self) -> bool:
        return self.failure is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "migration": self.migration,
            "examples": self.examples,
            "seed": self.seed,
            "ok": self.ok,
            "sources": {role: stats.to_dict() for role, stats in self.sources.items()},
            "batches": {"examples": self.batches, "items": self.batch_items},
            "failure": None if self.failure is None else self.failure.to_dict(),
            "completed": list(self.completed),
        }


Progress = Callable[[str, int, int], None]  # (what, done, total)


def check(
    migration: Migration, examples: int = 200, seed: int | None = None, progress: Progress | None = None
) -> Report:
    """Run every property; stop at the first that fails (shrunk) and report it."""
    chosen = random.SystemRandom().randrange(2**32) if seed is None else seed
    report = Report(migration.name, examples, chosen, {role: SourceStats() for role in migration.roles})
    secrets = migration.test_secrets()
    try:
        for role in migration.roles:
            stats = report.sources[role]
            _run(_per_item(migration, role, secrets, stats, examples, progress), examples, chosen)
            if stats.examples and stats.rejected == stats.examples:
                common = ", ".join(f"{reason} {n}" for reason, n in stats.reasons.most_common(3))
                raise Failure(
                    "exercised",
                    role,
                    f"all {stats.examples} generated items were rejected ({common}): register a strategy for "
                    f"{role!r} in Migration.strategies that produces valid items",
                    (),
                )
            report.completed.append(role)
        _run(_batches(migration, secrets, report, examples, progress), examples, chosen)
        report.completed.append("batches")
    except Failure as failure:
        report.failure = failure
    return report


# --- running hypothesis programmatically ------------------------------------------------------


class _Recorder:
    """The last Failure raised inside a property: hypothesis may end in its own error (a flaky
    failure, when a transform is not deterministic), but what we report is our Failure."""

    last: Failure | None = None


def _run(prop: Callable[[_Recorder], Callable[[], None]], examples: int, chosen: int) -> None:
    recorder = _Recorder()
    test = prop(recorder)
    configured = settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
    )
    try:
        hypothesis_seed(chosen)(configured(test))()
    except Failure as failure:
        raise failure from None
    except Exception as exc:  # noqa: BLE001 - hypothesis's own (e.g. FlakyFailure): report the Failure behind it
        if recorder.last is not None:
            raise recorder.last from None
        raise Failure("strategy", "", f"hypothesis could not run: {type(exc).__name__}: {exc}", ()) from None


def _fail(
    recorder: _Recorder, prop: str, source: str, detail: str, *items: Mapping[str, Any], roles: tuple[str, ...] = ()
) -> Failure:
    recorder.last = Failure(prop, source, detail, tuple(items), roles)
    return recorder.last


# --- strategies ---------------------------------------------------------------------------------


def numbers() -> st.SearchStrategy[Decimal]:
    """DynamoDB numbers: up to 38 significant digits, magnitude well inside 1E-130..1E+126."""
    small = st.integers(min_value=-(10**12), max_value=10**12).map(Decimal)
    wide = st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1).map(Decimal)
    edge = st.sampled_from([Decimal(10**38 - 1), Decimal(-(10**38) + 1), Decimal("1E-100"), Decimal("9.9E+100")])
    scaled = st.builds(
        lambda digits, exponent: Decimal(f"{digits}E{exponent}"),
        st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1),
        st.integers(min_value=-90, max_value=80),
    )
    return st.one_of(small, wide, edge, scaled)


def binaries(min_size: int = 0) -> st.SearchStrategy[Any]:
    return st.binary(min_size=min_size, max_size=16).map(Binary)


def key_values(kind: str) -> st.SearchStrategy[Any]:
    """Key values of one type, drawn often from a small pool so that batches share keys."""
    if kind == "S":
        return st.one_of(st.sampled_from(["a", "b", "k1", "#", "0"]), st.text(min_size=1, max_size=16))
    if kind == "N":
        return st.one_of(st.sampled_from([Decimal(0), Decimal(1), Decimal(-7)]), numbers())
    return st.one_of(st.sampled_from([Binary(b"\x00"), Binary(b"a")]), binaries(min_size=1))


def attribute_values(nested: bool = True) -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.text(max_size=20),
        st.just(""),
        st.booleans(),
        st.none(),
        numbers(),
        binaries(),
        st.sets(st.text(min_size=1, max_size=8), min_size=1, max_size=4),
        st.sets(numbers(), min_size=1, max_size=4),
        st.sets(binaries(min_size=1), min_size=1, max_size=4),
    )
    if not nested:
        return leaves
    names = st.text(min_size=1, max_size=8)
    return st.recursive(
        leaves,
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=4)),
        max_leaves=10,
    )


def attribute_names(migration: Migration) -> st.SearchStrategy[str]:
    """Arbitrary names, and now and then one the definition uses itself (a legacy item carrying
    an attribute named like a target key or index key is real), or a `_` one."""
    declared = set(migration.target.attribute_types)
    for source in migration.sources:
        declared |= set(source.attribute_types)
    for inv in migration.inverses:
        declared |= set(inv.lossy)
    plain = st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.", min_size=1, max_size=10
    )
    own = st.sampled_from(sorted(declared))
    # one name in about 12 is the definition's own, one in about 40 a `_` one (one_of would pick
    # each distinct branch equally often, so the odds are drawn first)
    pick = {"plain": plain, "own": own, "underscore": st.just("_meta")}
    odds = ["plain"] * 36 + ["own"] * 3 + ["underscore"]
    return st.sampled_from(odds).flatmap(lambda which: pick[which])


def legacy_items(migration: Migration, role: str, light: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """Items of one source as boto3 deserialises them, with the definition's own shapes mixed in.
    `light`: fewer, flat extra attributes (batches, where what matters is which keys items get)."""
    source = migration.source(role)
    keys = st.fixed_dictionaries({k.name: key_values(k.type) for k in source.keys})
    extras = st.dictionaries(attribute_names(migration), attribute_values(not light), max_size=2 if light else 5)
    generic = st.builds(lambda e, k: {**e, **k}, extras, keys)
    factory = migration.strategies.get(role)
    if factory is None:
        return generic
    own = factory()
    if not isinstance(own, st.SearchStrategy):
        raise Failure("strategy", role, f"strategies[{role!r}]() returned {type(own).__name__}, not a strategy", ())
    plain = st.builds(lambda k, u: {**k, **u} if isinstance(u, Mapping) else u, keys, own)
    messy = st.builds(lambda e, k, u: {**e, **k, **u} if isinstance(u, Mapping) else u, extras, keys, own)
    shapes = {"generic": generic, "plain": plain, "messy": messy}
    return st.sampled_from(["generic", "plain", "plain", "messy", "messy"]).flatmap(lambda which: shapes[which])


# --- the properties -------------------------------------------------------------------------------


def _call(migration: Migration, role: str, item: Mapping[str, Any], secrets: Secrets) -> tuple[str, Any]:
    try:
        return "ok", migration.call_transform(role, item, secrets)
    except TransformError as err:
        return "bad", err
    except Exception as exc:  # noqa: BLE001 - the property: anything but a TransformError is a bug in the transform
        return "crash", exc


def _same(first: tuple[str, Any], second: tuple[str, Any]) -> bool:
    if first[0] != second[0]:
        return False
    if first[0] == "ok":
        return bool(first[1] == second[1])
    return type(first[1]) is type(second[1]) and str(first[1]) == str(second[1])


def _difference(first: tuple[str, Any], second: tuple[str, Any]) -> str:
    a_list, b_list = first[1], second[1]
    if (
        first[0] == second[0] == "ok"
        and isinstance(a_list, list)
        and isinstance(b_list, list)
        and len(a_list) == len(b_list)
    ):
        for i, (a, b) in enumerate(zip(a_list, b_list, strict=True)):
            if a != b and isinstance(a, Mapping) and isinstance(b, Mapping):
                return f"called twice on one item, item {i} differs in {_differ(a, b, set(a) | set(b))}"
    return f"called twice on one item: first {_describe(first)}, then {_describe(second)}"


def _describe(result: tuple[str, Any]) -> str:
    kind, value = result
    if kind == "ok":
        return f"{len(value) if isinstance(value, (list, tuple)) else '?'} item(s)"
    return f"{type(value).__name__}: {_cut(str(value))}"


def _per_item(
    migration: Migration, role: str, secrets: Secrets, stats: SourceStats, examples: int, progress: Progress | None
) -> Callable[[_Recorder], Callable[[], None]]:
    strategy = legacy_items(migration, role)

    def build(recorder: _Recorder) -> Callable[[], None]:
        @given(strategy)
        def prop(item: Any) -> None:
            if not isinstance(item, Mapping) or not all(isinstance(n, str) and n for n in item):
                raise _fail(recorder, "strategy", role, f"a registered strategy produced {type(item).__name__}")
            stats.examples += 1
            if progress is not None:
                progress(role, stats.examples, examples)
            before = copy.deepcopy(item)
            first = _call(migration, role, item, secrets)
            changed = _changed(before, item)
            if changed:
                raise _fail(
                    recorder, "pure", role, f"the transform changed attribute(s) {changed} of its input", before
                )
            second = _call(migration, role, item, secrets)
            if not _same(first, second):
                raise _fail(recorder, "deterministic", role, _difference(first, second), before)
            kind, value = first
            if kind == "crash":
                raise _fail(
                    recorder,
                    "only-transform-errors",
                    role,
                    f"{type(value).__name__}: {_cut(str(value))}: raise a TransformError subclass for bad input",
                    before,
                )
            if kind == "bad":
                stats.rejected += 1
                stats.reasons[value.reason] += 1
                return
            outputs = _checked(migration, role, item, value, recorder, before)
            stats.items += len(outputs)
            if not outputs:
                stats.not_migrated += 1
            for out in outputs:
                size = item_size(out)
                stats.largest_item_bytes = max(stats.largest_item_bytes, size)
                if size > MAX_ITEM_BYTES:
                    raise _fail(recorder, "size", role, f"an output is {size} bytes (limit {MAX_ITEM_BYTES})", before)
            _inverses(migration, role, item, outputs, secrets, recorder, before)

        return prop

    return build


def _checked(
    migration: Migration,
    role: str,
    item: Mapping[str, Any],
    value: Any,
    recorder: _Recorder,
    before: Mapping[str, Any],
) -> list[dict[str, Any]]:
    try:
        return migration.check_output(role, item, value)
    except TransformError as err:
        prop = next((p for cls, p in _BY_ERROR if isinstance(err, cls)), "output-shape")
        raise _fail(recorder, prop, role, _cut(err.detail, 160), before) from None


def _inverses(
    migration: Migration,
    role: str,
    item: Mapping[str, Any],
    outputs: list[dict[str, Any]],
    secrets: Secrets,
    recorder: _Recorder,
    before: Mapping[str, Any],
) -> None:
    if not migration.inverses:
        return
    for y in outputs:
        kinds = []
        for inv in migration.inverses:
            try:
                if inv.matches(y):
                    kinds.append(inv)
            except Exception as exc:  # noqa: BLE001 - matches() is part of the definition: it must answer for any output
                raise _fail(
                    recorder, "inverse-kind", role, f"{inv.kind}.matches raised {type(exc).__name__}: {exc}", before
                ) from None
        if not kinds:
            continue
        if len(kinds) > 1 or kinds[0].source != role:
            which = ", ".join(f"{k.kind} (of {k.source})" for k in kinds)
            raise _fail(recorder, "inverse-kind", role, f"an output of {role} matches {which}", before)
        inv = kinds[0]
        try:
            x2 = inv.inverse(y)
        except Exception as exc:  # noqa: BLE001 - the inverse must accept every item of its kind the transform produces
            raise _fail(
                recorder, "inverse-keeps", role, f"{inv.kind}.inverse raised {type(exc).__name__}: {exc}", before
            ) from None
        if not isinstance(x2, Mapping):
            raise _fail(recorder, "inverse-keeps", role, f"{inv.kind}.inverse returned {type(x2).__name__}", before)
        names = set(inv.keeps) if inv.keeps is not None else set(item) | set(x2)
        differ = _differ(item, x2, names - set(inv.lossy))
        if differ:
            raise _fail(recorder, "inverse-keeps", role, f"kind {inv.kind}: {differ} differ", before)
        kind, again = _call(migration, role, x2, secrets)
        if kind != "ok":
            raise _fail(
                recorder,
                "inverse-roundtrip",
                role,
                f"kind {inv.kind}: transform(inverse(y)) raised {type(again).__name__}: {_cut(str(again))}",
                before,
            )
        try:
            key = _key(migration, y)
            same = [z for z in again if isinstance(z, Mapping) and _key(migration, z) == key]
        except TransformError:
            same = []
        if len(same) != 1:
            raise _fail(
                recorder, "inverse-roundtrip", role, f"kind {inv.kind}: transform(inverse(y)) lacks y's key", before
            )
        differ = _differ(y, same[0], (set(y) | set(same[0])) - set(inv.lossy))
        if differ:
            raise _fail(recorder, "inverse-roundtrip", role, f"kind {inv.kind}: {differ} differ", before)


def _batches(
    migration: Migration, secrets: Secrets, report: Report, examples: int, progress: Progress | None
) -> Callable[[_Recorder], Callable[[], None]]:
    tagged = [legacy_items(migration, role, light=True).map(_tagger(role)) for role in migration.roles]
    batches = st.lists(st.one_of(*tagged), min_size=2, max_size=8)

    def build(recorder: _Recorder) -> Callable[[], None]:
        @given(batches)
        def prop(pairs: list[tuple[str, Any]]) -> None:
            report.batches += 1
            if progress is not None:
                progress("batches", report.batches, examples)
            distinct: dict[tuple[str, tuple[Any, ...]], Mapping[str, Any]] = {}
            for role, item in pairs:
                if not isinstance(item, Mapping):
                    continue  # the per-item property reports it
                try:
                    distinct[(role, canonical(migration.source_key(role, item)))] = item
                except TransformError:
                    continue
            owners: dict[tuple[Any, ...], tuple[str, tuple[Any, ...], Mapping[str, Any]]] = {}
            for (role, source_key), item in distinct.items():
                kind, value = _call(migration, role, copy.deepcopy(item), secrets)
                if kind != "ok":
                    continue
                try:
                    outputs = migration.check_output(role, item, value)
                except TransformError:
                    continue  # the per-item property reports it
                report.batch_items += len(outputs)
                for out in outputs:
                    key = _key(migration, out)
                    owner = owners.get(key)
                    if owner is not None and owner[:2] != (role, source_key):
                        raise _fail(
                            recorder,
                            "unique-keys",
                            owner[0] if owner[0] == role else f"{owner[0]}, {role}",
                            f"target key {_key_text(migration, out)} comes from two source items",
                            owner[2],
                            item,
                            roles=(owner[0], role),
                        )
                    owners[key] = (role, source_key, item)

        return prop

    return build


# --- helpers ------------------------------------------------------------------------------------


def _tagger(role: str) -> Callable[[Any], tuple[str, Any]]:
    return lambda item: (role, item)


def _key(migration: Migration, item: Mapping[str, Any]) -> tuple[Any, ...]:
    return canonical(migration.target_key(item))


def _key_text(migration: Migration, item: Mapping[str, Any]) -> str:
    return json.dumps({k: _plain(item.get(k)) for k in migration.target.key_names}, ensure_ascii=False)


def _changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    names = sorted(n for n in set(before) | set(after) if before.get(n, _MISSING) != after.get(n, _MISSING))
    return ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")


def _differ(a: Mapping[str, Any], b: Mapping[str, Any], names: set[str]) -> str:
    differ = sorted(n for n in names if a.get(n, _MISSING) != b.get(n, _MISSING))
    return ", ".join(differ[:5]) + (", ..." if len(differ) > 5 else "")


def _cut(text: str, limit: int = 120) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, Binary)):
        raw: Any = getattr(value, "value", value)  # boto3's Binary wraps the bytes
        return base64.b64encode(bytes(raw)).decode()
    return value


def _typed(value: Any) -> Any:
    """A plain value as DynamoDB JSON (`{"S": ...}`), so a failing item can be put back by hand."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, (int, Decimal)):
        return {"N": str(value)}
    if isinstance(value, (bytes, bytearray, Binary)):
        return {"B": _plain(value)}
    if isinstance(value, Mapping):
        return {"M": {str(k): _typed(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [_typed(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        members = list(value)
        if all(isinstance(v, str) for v in members):
            return {"SS": sorted(members)}
        if all(isinstance(v, (int, Decimal)) and not isinstance(v, bool) for v in members):
            return {"NS": sorted(str(v) for v in members)}
        if all(isinstance(v, (bytes, bytearray, Binary)) for v in members):
            return {"BS": sorted(_plain(v) for v in members)}
    return {"?": repr(value)}


def ddb_json(item: Mapping[str, Any]) -> str:
    return json.dumps({str(k): _typed(v) for k, v in item.items()}, ensure_ascii=False, sort_keys=True)
