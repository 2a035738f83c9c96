"""Where shadow comparisons are recorded (by the API) and read (by the flip gate): the API's table.

The API's own table (`Names.api_table`, generic `pk`/`sk`) already holds its claims and markers;
shadow evidence lives beside them under `shadow#` partitions, so the API needs no write access to
the reports table (whose flip control item IS the read-source flag). One layout, used by both
sides (DESIGN.md, "Shadow evidence"):

- `shadow#<phase>` / `reads#<op>`: one counter item per kind of read, one number per outcome
  (`OUTCOMES`), added to (`ADD`) by each flush of each API instance. `<phase>` is the flip
  control item's version the API read `shadow` at, so a shadow phase counts only what was
  compared while it lasted, with no clock involved.
- `shadow#<phase>` / `key#<op>#<digest>`: one item per distinct key compared (a completed
  comparison: `COMPARED`), so the gate counts distinct keys honestly by counting items. The key
  itself is not stored (e-mails are personal data), only its digest. Each API instance writes a
  key at most once per phase, and at most `max_keys` per kind of read: bounded writes.
- `shadow#mismatch` / `<op>#<digest>`: one item per mismatching key, across phases (a difference
  found in an earlier phase is still a difference): its keys, the differing attributes, how
  often, and `first_at`/`last_at` (the API's clock). The gate asks whether a full, clean
  reconcile started after `last_at`.
Every item expires through the table's TTL after `TTL_SECONDS`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from controlplane.shadow_outcomes import (  # noqa: F401 - re-exported: the recorder's and the tests' vocabulary
    COMPARED,
    KEYS,
    MATCH,
    MISMATCH,
    OUTCOMES,
)
from cutover.codec import from_ddb, json_default, to_ddb
from cutover.names import API_TTL_ATTRIBUTE
from cutover.state import date_header

SHADOW_PREFIX = "shadow#"  # every partition here starts with it: the API's UpdateItem grant is limited to it
MISMATCH_PK = f"{SHADOW_PREFIX}mismatch"
TTL_SECONDS = 30 * 24 * 3600


def phase_pk(phase: str) -> str:
    return f"{SHADOW_PREFIX}{phase}"


def digest(keys: Mapping[str, Any]) -> str:
    """A key's stable name without its value (collision-resistant; 128 bits are plenty to count)."""
    text = json.dumps(dict(keys), sort_keys=True, default=json_default)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class Mismatch:
    """One key's mismatches as an API instance saw them since its last flush."""

    op: str
    keys: dict[str, Any]
    differing: list[str]
    first_at: str
    last_at: str
    count: int = 1
    phase: str = ""

    def merge(self, other: Mismatch) -> None:
        self.first_at, self.last_at = min(self.first_at, other.first_at), max(self.last_at, other.last_at)
        self.count += other.count
        self.differing = sorted({*self.differing, *other.differing})


@dataclass
class Batch:
    """What one flush writes: counts per (phase, op, outcome), new distinct keys, mismatches."""

    counts: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    keys: set[tuple[str, str, str]] = field(default_factory=set)  # (phase, op, digest)
    mismatches: dict[tuple[str, str], Mismatch] = field(default_factory=dict)  # (op, digest)

    def __bool__(self) -> bool:
        return bool(self.counts or self.keys or self.mismatches)

    def merge(self, other: Batch) -> None:
        for where, outcomes in other.counts.items():
            mine = self.counts.setdefault(where, dict.fromkeys(OUTCOMES, 0))
            for outcome, n in outcomes.items():
                mine[outcome] += n
        self.keys |= other.keys
        for where, m in other.mismatches.items():
            if where in self.mismatches:
                self.mismatches[where].merge(m)
            else:
                self.mismatches[where] = m


class ShadowStore:
    """The `shadow#` items of the API's table (boto3 DynamoDB client)."""

    def __init__(self, client: Any, table: str, clock: Any = time.time) -> None:
        self._client, self.table, self._clock = client, table, clock

    def write(self, batch: Batch) -> None:
        """One UpdateItem per mismatching key, per new key, then per counter. Each part is taken off
        `batch` once written, so after a failure `batch` holds only what was not: a retry never
        adds a count twice (an overcount would let the gate pass on fewer comparisons)."""
        expires = int(self._clock()) + TTL_SECONDS
        for (op, key), m in list(batch.mismatches.items()):
            self._mismatch(op, key, m, expires)
            del batch.mismatches[(op, key)]
        for phase, op, key in list(batch.keys):
            self._update(
                {"pk": phase_pk(phase), "sk": f"key#{op}#{key}"}, "SET expiresAt = :exp", {}, {":exp": expires}
            )
            batch.keys.discard((phase, op, key))
        for (phase, op), outcomes in list(batch.counts.items()):
            names = {f"#{o}": o for o in OUTCOMES}
            values = {f":{o}": outcomes.get(o, 0) for o in OUTCOMES}
            self._update(
                {"pk": phase_pk(phase), "sk": f"reads#{op}"},
                "ADD " + ", ".join(f"#{o} :{o}" for o in OUTCOMES) + " SET op = :op, expiresAt = :exp",
                names,
                {**values, ":op": op, ":exp": expires},
            )
            del batch.counts[(phase, op)]

    def _mismatch(self, op: str, key: str, m: Mismatch, expires: int) -> None:
        """`last_at` only moves forward: an instance flushing an older occurrence after another
        instance recorded a newer one must not make the mismatch look older than it is."""
        where = {"pk": MISMATCH_PK, "sk": f"{op}#{key}"}
        values = {
            ":op": op,
            ":keys": json.dumps(m.keys, sort_keys=True, default=json_default),
            ":diff": m.differing,
            ":phase": m.phase,
            ":exp": expires,
            ":first": m.first_at,
            ":n": m.count,
        }
        common = "SET op = :op, keys_ = :keys, differing = :diff, phase = :phase, expiresAt = :exp, "
        common += "first_at = if_not_exists(first_at, :first)"
        try:
            resp = self._update(
                where,
                f"{common}, last_at = :last ADD #n :n",
                {"#n": "count"},
                {**values, ":last": m.last_at},
                condition="attribute_not_exists(last_at) OR last_at <= :last",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            resp = self._update(where, f"{common} ADD #n :n", {"#n": "count"}, values)  # a newer occurrence stands
        self._backend_seen(where, resp)

    def _backend_seen(self, where: dict[str, str], resp: dict[str, Any]) -> None:
        """`last_backend_at`: the backend's clock when this write was answered, after the mismatch
        was seen, so never earlier than it (the gate compares it with a reconcile's start on the
        same clock, not two machines' clocks). Only moves forward."""
        moment = date_header(resp)
        if moment is None:
            return
        try:
            self._update(
                where,
                "SET last_backend_at = :b",
                {},
                {":b": moment.isoformat()},
                condition="attribute_not_exists(last_backend_at) OR last_backend_at < :b",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def _update(
        self,
        key: dict[str, str],
        expression: str,
        names: dict[str, str],
        values: dict[str, Any],
        condition: str | None = None,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Key": to_ddb(key),
            "UpdateExpression": expression.replace("expiresAt", API_TTL_ATTRIBUTE),
            "ExpressionAttributeValues": to_ddb(values),
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if condition:
            kwargs["ConditionExpression"] = condition
        return dict(self._client.update_item(**kwargs))

    def reads(self, phase: str) -> dict[str, dict[str, int]]:
        """{op: {outcome: n, ..., "keys": distinct keys compared}} of one phase (strongly consistent)."""
        out: dict[str, dict[str, int]] = {}
        keys: dict[str, int] = {}
        for item in self._query(phase_pk(phase)):
            sk = str(item["sk"])
            if sk.startswith("reads#"):
                out[sk[len("reads#") :]] = {o: int(item.get(o, 0)) for o in OUTCOMES}
            elif sk.startswith("key#"):
                op = sk[len("key#") :].rsplit("#", 1)[0]
                keys[op] = keys.get(op, 0) + 1
        for op in {*out, *keys}:
            out.setdefault(op, dict.fromkeys(OUTCOMES, 0))[KEYS] = keys.get(op, 0)
        return dict(sorted(out.items()))

    def mismatches(self) -> list[dict[str, Any]]:
        """Every recorded mismatching key (any phase, until its TTL), newest `last_at` first."""
        rows = [
            {
                "op": str(i.get("op")),
                "keys": json.loads(str(i.get("keys_", "{}"))),
                "differing": [str(d) for d in i.get("differing", [])],
                "first_at": i.get("first_at"),
                "last_at": i.get("last_at"),
                "last_backend_at": i.get("last_backend_at"),
                "count": int(i.get("count", 0)),
                "phase": i.get("phase"),
            }
            for i in self._query(MISMATCH_PK)
        ]
        return sorted(rows, key=lambda r: str(r["last_at"]), reverse=True)

    def _query(self, pk: str) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": True,
        }
        out = []
        while True:
            resp = self._client.query(**kwargs)
            out += [from_ddb(raw) for raw in resp.get("Items", [])]
            if "LastEvaluatedKey" not in resp:
                return out
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
