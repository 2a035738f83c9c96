"""Migration definitions used only by the tests of `cutover check` and the loader.

`TELEMETRY` is a third shape, unlike the seed and the catalog: a source with a numeric hash key
and a binary range key, a target keyed by N and B, and an index with a numeric sort key; it must
pass `cutover check`. Every other definition here is broken in exactly one way that a property of
`cutover check` must find.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from cutover.migration import (
    Index,
    InvalidIndexKeyError,
    Inverse,
    Key,
    Migration,
    ReservedAttributeError,
    Source,
    Target,
    TransformError,
)

# --- a third shape that passes -------------------------------------------------------------------

_OWNED = frozenset({"device", "reading", "day"})


def readings(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    clashes = sorted(k for k in item if k.startswith("_") or k in _OWNED)
    if clashes:
        raise ReservedAttributeError("readings", None, f"carries {', '.join(clashes)}, which the transform sets")
    value = item.get("value", Decimal(0))
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or not Decimal(value).is_finite():
        raise InvalidIndexKeyError("readings", None, "value is a key of the index ByDay and must be a number")
    out = {k: v for k, v in item.items() if k not in ("deviceId", "readingId")}
    out.update(device=item["deviceId"], reading=item["readingId"], day=f"D{int(item['deviceId']) % 7}", value=value)
    return [out]


def reading_of(item: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in item.items() if k not in _OWNED}
    out.update(deviceId=item["device"], readingId=item["reading"])
    return out


TELEMETRY = Migration(
    name="telemetry",
    target=Target(
        table="{service}-{stage}-telemetry",
        hash_key=Key("device", "N"),
        range_key=Key("reading", "B"),
        indexes=(Index("ByDay", Key("day"), Key("value", "N"), "KEYS_ONLY"),),
    ),
    sources=(
        Source(
            role="readings",
            table="{service}-{stage}-readings",
            hash_key=Key("deviceId", "N"),
            range_key=Key("readingId", "B"),
            transform=readings,
        ),
    ),
    inverses=(
        Inverse(
            kind="reading",
            source="readings",
            matches=lambda item: "device" in item,
            inverse=reading_of,
            lossy={"value": "a missing value becomes 0"},
        ),
    ),
)

# --- broken in one way each ---------------------------------------------------------------------------


def _target() -> Target:
    return Target(table="{service}-{stage}-target", hash_key=Key("pk"), range_key=Key("sk"))


def _one(role: str, transform: Any, **more: Any) -> Migration:
    return Migration(
        name=f"broken-{role}",
        target=more.pop("target", _target()),
        sources=(Source(role=role, table="{service}-{stage}-" + role, hash_key=Key("id"), transform=transform),),
        **more,
    )


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_") and k not in ("pk", "sk", "gsi")}


def nondeterministic(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{**_plain(item), "pk": item["id"], "sk": "X", "draw": Decimal(random.randrange(10**9))}]


def mutating(item: Any) -> list[dict[str, Any]]:
    item.pop("note", None)  # "cleans" its input in place
    item["seen"] = True
    return [{**_plain(item), "pk": item["id"], "sk": "X"}]


def crashing(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{**_plain(item), "pk": item["id"], "sk": "X", "count": int(item["count"])}]  # KeyError, TypeError...


def wrong_key_type(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{**_plain(item), "pk": Decimal(len(item["id"])), "sk": "X"}]  # the target's pk is S


def underscore(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{**_plain(item), "pk": item["id"], "sk": "X", "_migratedBy": "me"}]


def wrong_index_type(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{**_plain(item), "pk": item["id"], "sk": "X", "gsi": Decimal(1)}]  # gsi is declared S


def oversized(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{**_plain(item), "pk": item["id"], "sk": "X", "padding": "x" * 410_000}]


def duplicate_in_call(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"pk": item["id"], "sk": "X"}, {"pk": item["id"], "sk": "X", "again": True}]


def _same_key(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{**_plain(item), "pk": item["id"], "sk": "X"}]


def _not_a_list(item: Mapping[str, Any]) -> Any:
    return {"pk": item["id"], "sk": "X"}


def _reserved_guard(item: Mapping[str, Any]) -> None:
    if any(k.startswith("_") or k in ("pk", "sk") for k in item):
        raise ReservedAttributeError("things", None, "carries an attribute the transform sets")


def keeps_everything(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    _reserved_guard(item)
    return [{**item, "pk": item["id"], "sk": "X"}]


def loses_note(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("pk", "sk", "note")}  # forgets `note`


def rejects_notes(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    _reserved_guard(item)
    if "note" in item:
        raise TransformError("things", None, "has a note")
    return [{**item, "pk": item["id"], "sk": "X"}]


NONDETERMINISTIC = _one("things", nondeterministic)
MUTATING = _one("things", mutating)
CRASHING = _one("things", crashing)
WRONG_KEY_TYPE = _one("things", wrong_key_type)
UNDERSCORE = _one("things", underscore)
WRONG_INDEX_TYPE = _one(
    "things",
    wrong_index_type,
    target=Target(
        table="{service}-{stage}-target", hash_key=Key("pk"), range_key=Key("sk"), indexes=(Index("ByGsi", Key("gsi")),)
    ),
)
OVERSIZED = _one("things", oversized)
DUPLICATE_IN_CALL = _one("things", duplicate_in_call)
NOT_A_LIST = _one("things", _not_a_list)
COLLIDING = Migration(
    name="colliding",
    target=_target(),
    sources=(
        Source(role="left", table="{service}-{stage}-left", hash_key=Key("id"), transform=_same_key),
        Source(role="right", table="{service}-{stage}-right", hash_key=Key("id"), transform=_same_key),
    ),
)
BROKEN_INVERSE = _one(
    "things",
    keeps_everything,
    inverses=(Inverse(kind="thing", source="things", matches=lambda i: i.get("sk") == "X", inverse=loses_note),),
    strategies={"things": lambda: _with_notes()},
)
INVERSE_NOT_ACCEPTED = _one(
    "things",
    rejects_notes,
    inverses=(
        Inverse(
            kind="thing",
            source="things",
            matches=lambda i: i.get("sk") == "X",
            inverse=lambda i: {**{k: v for k, v in i.items() if k not in ("pk", "sk")}, "note": "added"},
            lossy={"note": "the inverse adds one"},
        ),
    ),
)


def _with_notes() -> Any:
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"note": st.text(max_size=5)})


# --- for the loader ---------------------------------------------------------------------------------

NOT_A_MIGRATION = {"name": "looks like one"}
