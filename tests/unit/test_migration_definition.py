"""The migration definition API (cutover.migration): validation with one-line errors naming the
field and the fix, keys of any type and shape, the engine's output checks, secrets."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary

from cutover.errors import ConfigError
from cutover.item_size import MAX_ITEM_BYTES, item_size
from cutover.migration import (
    DuplicateTargetKeyError,
    Index,
    InvalidIndexKeyError,
    InvalidOutputError,
    InvalidTargetKeyError,
    Inverse,
    ItemKey,
    Key,
    Migration,
    MigrationError,
    MissingKeyError,
    ReservedAttributeError,
    Secret,
    Secrets,
    Source,
    Target,
    TransformError,
    canonical,
    key_text,
)


def copy_item(item):
    return [{**item, "pk": item["id"], "sk": "X"}]


def with_secret(item, secrets):
    return [{"pk": item["id"], "sk": secrets["k"]}]


def source(**changes: Any) -> Source:
    fields: dict[str, Any] = {
        "role": "things",
        "table": "{service}-{stage}-things",
        "hash_key": Key("id"),
        "transform": copy_item,
    }
    return Source(**{**fields, **changes})


def target(**changes: Any) -> Target:
    fields: dict[str, Any] = {"table": "{service}-{stage}-target", "hash_key": Key("pk"), "range_key": Key("sk")}
    return Target(**{**fields, **changes})


def migration(**changes: Any) -> Migration:
    fields: dict[str, Any] = {"name": "demo", "target": target(), "sources": (source(),)}
    return Migration(**{**fields, **changes})


SECRET = Secret(name="k", parameter="/{service}/{stage}/cutover/secrets/k", version=3, test_value="test-k")


def test_a_valid_definition_builds():
    m = migration(
        secrets=(SECRET,),
        sources=(source(), source(role="more", table="x-{stage}", secrets=("k",), transform=with_secret)),
    )
    assert m.roles == ("things", "more")
    assert m.target_table("svc", "prod") == "svc-prod-target"
    assert m.source_table("more", "svc", "prod") == "x-prod"


RULES = [
    # (what is wrong, the change, the field the message names, words of the fix)
    (
        "index key with no type",
        {"target": target(indexes=(Index("ByGhost", "ghost"),))},
        "target.indexes[0] (ByGhost).hash_key",
        "has no declared type: write Key('ghost'",
    ),
    (
        "index key typed twice",
        {"target": target(indexes=(Index("ByA", Key("n", "N")), Index("ByB", Key("n", "S"))))},
        "target.indexes[1] (ByB).hash_key",
        "declared S here but N at target.indexes[0] (ByA).hash_key",
    ),
    (
        "index key retypes a table key",
        {"target": target(indexes=(Index("ByA", Key("sk", "N")),))},
        "target.indexes[0] (ByA).hash_key",
        "declared N here but S at target.range_key",
    ),
    (
        "two sources, one role",
        {"sources": (source(), source(table="other"))},
        "sources[1].role",
        "sources[0] has role 'things' too",
    ),
    (
        "two sources, one table",
        {"sources": (source(), source(role="more"))},
        "sources[1] (more).table",
        "is also the table of source 'things'",
    ),
    (
        "a source on the target's table",
        {"sources": (source(table="{service}-{stage}-target"),)},
        "sources[0] (things).table",
        "is also the table of the target",
    ),
    ("role with capitals", {"sources": (source(role="Users"),)}, "sources[0].role", "lowercase letters"),
    ("role with underscore", {"sources": (source(role="user_profiles"),)}, "sources[0].role", "hyphens"),
    ("role too long", {"sources": (source(role="a" * 21),)}, "sources[0].role", "at most 20"),
    ("role reserved", {"sources": (source(role="all"),)}, "sources[0].role", "is reserved"),
    ("role named like the target", {"sources": (source(role="v3"),)}, "sources[0].role", "is reserved"),
    ("target hash key a string", {"target": target(hash_key="pk")}, "target.hash_key", "write Key('name', 'S')"),
    ("target hash key unnamed", {"target": target(hash_key=Key(""))}, "target.hash_key", "non-empty name"),
    ("target key of bookkeeping", {"target": target(range_key=Key("_sk"))}, "target.range_key", "begins with _"),
    ("key type X", {"target": target(hash_key=Key("pk", "X"))}, "target.hash_key", "DynamoDB keys are S, N or B"),
    (
        "source key type",
        {"sources": (source(hash_key=Key("id", "BOOL")),)},
        "sources[0] (things).hash_key",
        "S, N or B",
    ),
    (
        "transform not callable",
        {"sources": (source(transform="copy_item"),)},
        "sources[0] (things).transform",
        "is not callable",
    ),
    (
        "transform takes secrets none declared",
        {"sources": (source(transform=with_secret),)},
        "sources[0] (things).transform",
        "cannot be called as transform(item)",
    ),
    (
        "transform ignores declared secrets",
        {"secrets": (SECRET,), "sources": (source(secrets=("k",)),)},
        "sources[0] (things).transform",
        "cannot be called as transform(item, secrets)",
    ),
    (
        "unknown secret",
        {"sources": (source(secrets=("nope",), transform=with_secret),)},
        "sources[0] (things).secrets",
        "'nope' is not declared: add Secret(name='nope'",
    ),
    (
        "inverse of unknown source",
        {"inverses": (Inverse(kind="x", source="ghosts", matches=bool, inverse=dict),)},
        "inverses[0].source",
        "'ghosts' is not a source role: use one of things",
    ),
    (
        "inverse not callable",
        {"inverses": (Inverse(kind="x", source="things", matches=bool, inverse=None),)},
        "inverses[0].inverse",
        "is not callable",
    ),
    (
        "inverse of two arguments",
        {"inverses": (Inverse(kind="x", source="things", matches=bool, inverse=lambda a, b: a),)},
        "inverses[0].inverse",
        "cannot be called as inverse(target_item)",
    ),
    (
        "keeps and lossy overlap",
        {
            "inverses": (
                Inverse(
                    kind="x", source="things", matches=bool, inverse=dict, keeps=frozenset({"a"}), lossy={"a": "hashed"}
                ),
            )
        },
        "inverses[0].keeps",
        "a also in lossy",
    ),
    (
        "unknown placeholder",
        {"target": target(table="{service}-{env}-target")},
        "target.table",
        "unknown placeholder(s) env: use only {service} and {stage}",
    ),
    ("malformed braces", {"sources": (source(table="{service-things"),)}, "sources[0] (things).table", "malformed"),
    ("target without {stage}", {"target": target(table="{service}-target")}, "target.table", "has no {stage}"),
    (
        "target in cutover's names",
        {"target": target(table="{service}-{stage}-cutover-v3")},
        "target.table",
        "cutover's own",
    ),
    (
        "table name characters",
        {"sources": (source(table="my things"),)},
        "sources[0] (things).table",
        "not a DynamoDB table name",
    ),
    ("index name", {"target": target(indexes=(Index("ix", Key("a")),))}, "target.indexes[0].name", "not an index name"),
    (
        "projection",
        {"target": target(indexes=(Index("ByA", Key("a"), projection="SOME"),))},
        "target.indexes[0] (ByA).projection",
        "use 'ALL', 'KEYS_ONLY' or a tuple",
    ),
    (
        "secret outside its stage",
        {"secrets": (replace(SECRET, parameter="/shared/{stage}/k"),)},
        "secrets[0].parameter",
        "/{service}/{stage}/<path>",
    ),
    (
        "secret without {stage}",
        {"secrets": (replace(SECRET, parameter="/{service}/k"),)},
        "secrets[0].parameter",
        "has no {stage}",
    ),
    ("secret version unpinned", {"secrets": (replace(SECRET, version=0),)}, "secrets[0].version", "pin"),
    ("secret without test value", {"secrets": (replace(SECRET, test_value=""),)}, "secrets[0].test_value", "non-empty"),
    (
        "strategy of unknown role",
        {"strategies": {"ghosts": lambda: None}},
        "strategies['ghosts']",
        "is not a source role",
    ),
    (
        "index keyed only on the target key",  # it would hold every tombstone (replicator/v3_writer.py)
        {"target": target(indexes=(Index("Inverted", "sk", "pk"),))},
        "target.indexes[0] (Inverted)",
        "is keyed only on the target's key (pk, sk), so deleted items' tombstones would be in it: key it on "
        "attributes the transform sets",
    ),
    (
        "hash-only index on the target's range key",
        {"target": target(indexes=(Index("BySk", "sk"),))},
        "target.indexes[0] (BySk)",
        "tombstones would be in it",
    ),
    (
        "requires with a version",
        {"requires": ("rsa>=4",)},
        "requires[0]",
        "'rsa>=4' is not a distribution name: give the name alone",
    ),
    ("requires twice", {"requires": ("rsa", "RSA")}, "requires[1]", "'RSA' is requires[0] again: list each once"),
    ("requires not a tuple", {"requires": "rsa"}, "requires", "give a tuple of distribution names"),
    ("migration name", {"name": "My Migration"}, "name", "lowercase letters"),
    ("no sources", {"sources": ()}, "sources", "at least one Source"),
]


@pytest.mark.parametrize("what,changes,field,fix", RULES, ids=[r[0] for r in RULES])
def test_each_rule_fails_in_one_line_naming_the_field_and_the_fix(what, changes, field, fix):
    # When a definition breaks one rule
    with pytest.raises(MigrationError) as info:
        migration(**changes)
    # Then one line (exit 2 at the CLI, like every ConfigError) names the migration, the field and the fix
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"migration {changes.get('name', 'demo')!r}: {field}: "), message
    assert fix in message, message
    assert isinstance(info.value, ConfigError) and info.value.exit_code == 2


def test_lists_are_accepted_and_kept_immutable():
    m = Migration(name="demo", target=target(), sources=[source()])
    assert isinstance(m.sources, tuple)


# --- keys ---------------------------------------------------------------------------------------------

COMPOSITE = migration(
    sources=(
        source(),
        source(role="pairs", table="p-{stage}", hash_key=Key("a"), range_key=Key("b", "N")),
        source(role="blobs", table="b-{stage}", hash_key=Key("blob", "B")),
    )
)


def test_a_single_string_key_is_named_as_before():
    assert COMPOSITE.source_key("things", {"id": "t1"}) == ("t1",)
    assert COMPOSITE.source_key_label("things", {"id": "t1"}) == "t1"
    assert COMPOSITE.source_key_text("things", {"id": "t1"}) == "t1"
    with pytest.raises(MissingKeyError, match=r"^things item None: has no string id \(its primary key\)$"):
        COMPOSITE.source_key("things", {"name": "x"})


def test_composite_and_typed_keys_are_canonical_json_that_parses_back():
    # Given a composite key with a number, and a binary key
    pair = {"a": "x", "b": Decimal("1.50")}
    blob = {"blob": Binary(b"\x00\x01")}
    # Then they are shown as canonical JSON (no trailing zeros, binary as base64), and parse back
    assert COMPOSITE.source_key_text("pairs", pair) == '{"a":"x","b":1.5}'
    assert COMPOSITE.source_key_text("blobs", blob) == '{"blob":{"B":"AAE="}}'
    assert COMPOSITE.parse_source_key("pairs", '{"a":"x","b":1.5}') == {"a": "x", "b": Decimal("1.5")}
    assert COMPOSITE.parse_source_key("blobs", '{"blob":{"B":"AAE="}}') == {"blob": b"\x00\x01"}
    assert COMPOSITE.parse_source_key("things", "t1") == {"id": "t1"}
    with pytest.raises(MigrationError, match=r'give JSON \{"a":<string>,"b":<number>\}'):
        COMPOSITE.parse_source_key("pairs", "x")


def test_a_missing_part_of_a_composite_key_says_which():
    with pytest.raises(
        MissingKeyError, match=r"^pairs item None: has no number b \(its range key\), got string \"1\"$"
    ):
        COMPOSITE.source_key("pairs", {"a": "x", "b": "1"})


def test_key_text_and_error_messages():
    key = ItemKey(("a", "b"), ("x", Decimal(2)))
    assert key_text(key) == '{"a":"x","b":2}' and key_text("k") == "k"
    assert key_text("") is None and key_text(None) is None and key_text(Decimal(3)) is None
    assert str(TransformError("pairs", key, "bad")) == 'pairs item {"a":"x","b":2}: bad'
    assert str(TransformError("users", "u9", "bad")) == "users item 'u9': bad"  # the seed's form, unchanged


def test_canonical_keys_compare_like_dynamodb():
    assert canonical(("a", Decimal("1.50"), Binary(b"z"))) == canonical(("a", Decimal("1.5"), b"z"))
    assert canonical(("a",)) != canonical((b"a",))
    big, bigger = Decimal(10**37 + 1), Decimal(10**37 + 2)  # 38 digits: the default context would round
    assert canonical((big,)) != canonical((bigger,))


# --- the transform and the engine's output checks -------------------------------------------------------


def _returning(value):
    return migration(
        sources=(source(transform=lambda item: value),),
        target=target(indexes=(Index("ByN", Key("n", "N")), Index("ByS", Key("s")))),
    )


@pytest.mark.parametrize(
    "value,error,words",
    [
        ({"pk": "a", "sk": "b"}, InvalidOutputError, "the transform returned a map of 2 attributes, not a list"),
        ([["pk"]], InvalidOutputError, "is a list of 1, not a mapping"),
        ([{"sk": "b"}], InvalidTargetKeyError, "has no string pk (the target's hash key), got nothing"),
        ([{"pk": "", "sk": "b"}], InvalidTargetKeyError, "has no string pk"),
        ([{"pk": "a", "sk": Decimal(1)}], InvalidTargetKeyError, "has no string sk (the target's range key)"),
        (
            [{"pk": "a", "sk": "b", "n": "7"}],
            InvalidIndexKeyError,
            "n is a key of the target index ByN and must be a number",
        ),
        (
            [{"pk": "a", "sk": "b", "s": ""}],
            InvalidIndexKeyError,
            "s is a key of the target index ByS and must be a non-empty string",
        ),
        ([{"pk": "a", "sk": "b", "_v": 1}], ReservedAttributeError, "carries attribute(s) _v"),
        ([{"pk": "a", "sk": "b"}, {"pk": "a", "sk": "b"}], DuplicateTargetKeyError, "items 0 and 1 it returned share"),
    ],
)
def test_output_the_engine_cannot_write_is_a_transform_error_naming_the_item(value, error, words):
    with pytest.raises(error) as info:
        _returning(value).transform("things", {"id": "t1"})
    message = str(info.value)
    assert message.startswith("things item 't1': ") and words in message and "\n" not in message, message


def test_zero_items_and_fan_out_pass_through():
    assert _returning([]).transform("things", {"id": "t1"}) == []
    two = [{"pk": "a", "sk": "1", "n": Decimal(1)}, {"pk": "a", "sk": "2", "s": "x"}]
    assert _returning(two).transform("things", {"id": "t1"}) == two


def test_a_users_transform_error_is_named_by_role_and_canonical_key():
    def refuses(item):
        raise TransformError("whatever", None, "has no colour: set colour at the source")

    m = migration(
        sources=(
            source(role="pairs", table="p-{stage}", hash_key=Key("a"), range_key=Key("b", "N"), transform=refuses),
        )
    )
    with pytest.raises(TransformError) as info:
        m.transform("pairs", {"a": "x", "b": Decimal(2)})
    assert str(info.value) == 'pairs item {"a":"x","b":2}: has no colour: set colour at the source'
    assert info.value.key_text == '{"a":"x","b":2}' and info.value.reason == "invalid_item"


def test_the_transform_is_not_called_without_a_usable_key():
    calls = []
    m = migration(sources=(source(transform=lambda item: calls.append(item) or []),))
    with pytest.raises(MissingKeyError):
        m.transform("things", {"id": Decimal(1)})
    assert calls == []


def test_secrets_reach_only_the_transform_that_declares_them_and_never_print():
    m = migration(secrets=(SECRET,), sources=(source(secrets=("k",), transform=with_secret),))
    assert m.transform("things", {"id": "t"}, m.test_secrets()) == [{"pk": "t", "sk": "test-k"}]
    with pytest.raises(MigrationError, match="needs secret"):
        m.transform("things", {"id": "t"})
    secrets = Secrets({"k": "hush"}, {"k": 3})
    assert "hush" not in repr(secrets) and secrets.versions == {"k": 3}
    assert SECRET.selector("svc", "prod") == "/svc/prod/cutover/secrets/k:3"
    with pytest.raises(KeyError, match="name it in the Source's secrets"):
        secrets["other"]


def test_unknown_role_names_the_roles():
    with pytest.raises(MigrationError, match="has no source 'ghosts': use one of things"):
        migration().source("ghosts")


def test_table_shapes_for_the_engine():
    t = target(
        indexes=(Index("ByRating", Key("gsi1pk"), Key("rating", "N"), ("title",)), Index("BySk", "sk", "rating"))
    )
    m = migration(target=t)
    assert dict(m.target.attribute_types) == {"pk": "S", "sk": "S", "gsi1pk": "S", "rating": "N"}
    assert dict(m.target.index_keys) == {"gsi1pk": ("S", "ByRating"), "rating": ("N", "ByRating")}
    assert m.target_key({"pk": "a", "sk": "b", "x": 1}) == ("a", "b")


# --- item size ----------------------------------------------------------------------------------------------


def test_item_size_follows_the_documented_rules():
    # name + value: "a"+"xyz" = 4; "n" + 123.4500 (5 significant digits: 3 bytes + 1) = 5;
    # "m" + map(3) + element ("k" + list(3) + [1 (2) + 1, true (1) + 1] + 1) = 1 + 3 + 10
    assert item_size({"a": "xyz", "n": Decimal("123.4500"), "m": {"k": [1, True]}}) == 23
    assert item_size({"b": Binary(b"1234"), "z": None, "s": {"ab", "c"}}) == 5 + 2 + 4
    assert item_size({"big": "x" * MAX_ITEM_BYTES}) > MAX_ITEM_BYTES
