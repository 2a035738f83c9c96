"""Where a reconcile run on AWS keeps its partial results: DynamoDB items in the reports table.

A run on AWS is many Lambda invocations (one segment of one direction each, re-invoked before
its timeout), so nothing can be held in one process. Layout, all under the run id:

- pk `reconcile-run#<run>`: sk `header` (when the run started, what held then, its options),
  sk `part#<part>#<segment>` (cursor, done, cumulative counts, pages and items seen), sk `report`
  (the merged summary). Small items: `cutover reconcile --remote` polls them for its bars.
- pk `reconcile-diff#<run>`: sk `<part>#<segment>#<n>`, chunks of the differences a part found,
  numbered on from the part's checkpoint (`chunks`), each under DynamoDB's 400 KB item limit.

A part's checkpoint is written after its page's chunks and counts them (the ranges of chunk
numbers it holds), and only over the checkpoint it was loaded from (a revision check): of two
invocations of one part at once (a Step Functions retry while the first still runs, a re-run of
the run id) the first to save wins and the other stops, so no checkpoint goes back or counts
another's pages twice. Chunks are written only where no chunk exists yet: a page re-done after a
crash, or a concurrent writer, takes the next free numbers, so a counted chunk is never
overwritten, and chunks no checkpoint counts are never read.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from cutover.codec import from_ddb
from cutover.migration import Migration
from cutover.migration_loader import load_migration
from cutover.retry import call_with_retry
from cutover.state import CheckpointStore
from reconciler.report import COUNT_NAMES, Difference, ReconcileReport, json_default

V3_PART = "v3"
HEADER, REPORT = "header", "report"
CHUNK_BYTES = 300_000  # a chunk item stays well under DynamoDB's 400 KB item size limit
DEFAULT_SEGMENTS = 8  # `--segments` left out, locally, remotely, or from a hand-started execution
MAX_SEGMENTS = 1000  # per part, whatever the migration; max_segments(roles) is the real limit
# Begin returns the Map's items, (sources + 1) x segments of them, in the state's payload, which
# Step Functions caps at 256 KiB (262,144 bytes) with the input beside it: the items get at most this
ITEMS_BUDGET_BYTES = 200_000


def max_segments(roles: Iterable[str]) -> int:
    """The most segments a run of a migration with these source roles can take: its map items
    ({"part": ..., "segment": ...} for every part x segment, as Begin returns them) must fit
    ITEMS_BUDGET_BYTES; so a migration with more sources, or longer role names, gets fewer."""
    widest = MAX_SEGMENTS - 1
    per_segment = sum(len(json.dumps({"part": part, "segment": widest})) + 2 for part in part_names(roles))
    return max(1, min(MAX_SEGMENTS, ITEMS_BUDGET_BYTES // per_segment))


def part_names(roles: Iterable[str]) -> tuple[str, ...]:
    """The parts of a run: one per source role (legacy -> v3), in the definition's order, then v3 -> legacy."""
    return (*roles, V3_PART)


def __getattr__(name: str) -> Any:
    """`PARTS`, temporarily: the parts of the process's default definition, for callers not yet moved
    to `part_names(tables.roles)` (cutover_cli/remote_watch.py). Wrong for a run given --migration."""
    if name == "PARTS":
        return part_names(load_migration().roles)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run_pk(run_id: str) -> str:
    return f"reconcile-run#{run_id}"


def diff_pk(run_id: str) -> str:
    return f"reconcile-diff#{run_id}"


def part_sk(part: str, segment: int) -> str:
    return f"part#{part}#{segment:05d}"


@dataclass
class PartProgress:
    """One part (a direction of one table) x one segment: resumable like a backfill segment."""

    cursor: dict[str, Any] | None = None
    done: bool = False
    pages: int = 0
    scanned: int = 0  # items read by the scan (what the CLI's bars count)
    chunk_ranges: list[list[int]] = field(default_factory=list)  # [first, end) of the chunks it counts
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_NAMES, 0))
    revision: int = 0  # of the stored checkpoint this progress was loaded from or saved as

    @property
    def next_chunk(self) -> int:
        """The first chunk number after every one this checkpoint counts."""
        return self.chunk_ranges[-1][1] if self.chunk_ranges else 0

    def counts_chunk(self, n: int) -> bool:
        return any(first <= n < end for first, end in self.chunk_ranges)

    def add_chunks(self, numbers: Iterable[int]) -> None:
        """Count chunks `numbers` (ascending), merged into the ranges (one range while nobody races)."""
        for n in numbers:
            if self.chunk_ranges and self.chunk_ranges[-1][1] == n:
                self.chunk_ranges[-1][1] = n + 1
            else:
                self.chunk_ranges.append([n, n + 1])

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> PartProgress:
        if not doc:
            return cls()
        counts = dict.fromkeys(COUNT_NAMES, 0) | {k: int(v) for k, v in doc.get("counts", {}).items()}
        ranges = [[int(a), int(b)] for a, b in doc.get("chunk_ranges", [])]
        if "chunk_ranges" not in doc and int(doc.get("chunks", 0)):
            ranges = [[0, int(doc["chunks"])]]  # a checkpoint written before the ranges: chunks 0..n-1
        return cls(
            doc.get("cursor"),
            bool(doc.get("done")),
            int(doc.get("pages", 0)),
            int(doc.get("scanned", 0)),
            ranges,
            counts,
            int(doc.get("revision", 0)),
        )


class RunStore:
    """The partial results of one reconcile run (see the module doc for the layout)."""

    def __init__(self, client: Any, reports_table: str, run_id: str) -> None:
        self.client, self.table, self.run_id = client, reports_table, run_id
        self._store = CheckpointStore(client, reports_table)
        self.pk, self.diff_pk = run_pk(run_id), diff_pk(run_id)

    # -- header and report ----------------------------------------------------------------------
    def header(self) -> dict[str, Any] | None:
        return call_with_retry(lambda: self._store.get(self.pk, HEADER))

    def put_header_once(self, header: dict[str, Any]) -> bool:
        """False if the run already has a header (a resumed run keeps when it first started)."""
        return call_with_retry(lambda: self._store.put_if(self.pk, HEADER, header, {}, "attribute_not_exists(pk)", {}))

    def report(self) -> dict[str, Any] | None:
        return call_with_retry(lambda: self._store.get(self.pk, REPORT))

    def put_report(self, report: dict[str, Any]) -> None:
        call_with_retry(lambda: self._store.put(self.pk, REPORT, report))

    # -- parts ----------------------------------------------------------------------------------
    def load_part(self, part: str, segment: int) -> PartProgress:
        return PartProgress.from_doc(call_with_retry(lambda: self._store.get(self.pk, part_sk(part, segment))))

    def save_part(self, part: str, segment: int, progress: PartProgress) -> bool:
        """Store `progress` unless the part's checkpoint changed since `progress.revision` (False then:
        another invocation of the part saved first, and this one must stop)."""
        doc = {**asdict(progress), "revision": progress.revision + 1}
        sk = part_sk(part, segment)
        saved = call_with_retry(lambda: self._store.put_if_revision(self.pk, sk, doc, progress.revision))
        if saved:
            progress.revision += 1
        return saved

    def parts(self) -> dict[tuple[str, int], PartProgress]:
        """Every part checkpoint stored so far, by (part, segment)."""
        out = {}
        for sk, doc in call_with_retry(lambda: self._store.query(self.pk)).items():
            if sk.startswith("part#"):
                _, part, segment = sk.split("#")
                out[(part, int(segment))] = PartProgress.from_doc(doc)
        return out

    # -- differences ----------------------------------------------------------------------------
    def put_differences(self, part: str, segment: int, first: int, differences: list[dict[str, Any]]) -> list[int]:
        """Store `differences` as chunks, each at the lowest free number from `first`; returns the numbers."""
        numbers: list[int] = []
        n = first
        for chunk in _chunked([_bounded(d) for d in differences]) if differences else []:
            while not self._put_chunk(_diff_sk(part, segment, n), chunk):
                n += 1  # left by a crashed attempt or written by a concurrent one: never overwritten
            numbers.append(n)
            n += 1
        return numbers

    def _put_chunk(self, sk: str, chunk: list[dict[str, Any]]) -> bool:
        return call_with_retry(
            partial(self._store.put_if, self.diff_pk, sk, {"differences": chunk}, {}, "attribute_not_exists(pk)", {})
        )

    def differences(self, counted: dict[tuple[str, int], PartProgress]) -> Iterator[dict[str, Any]]:
        """Every difference the parts' checkpoints count (`counted`: the checkpoint per part), a Query
        page at a time."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": self.diff_pk}},
            "ConsistentRead": True,
        }
        while True:
            resp = call_with_retry(lambda: self.client.query(**kwargs))
            for raw in resp.get("Items", []):
                item = from_ddb(raw)
                part, segment, n = item["sk"].split("#")
                progress = counted.get((part, int(segment)))
                if progress is not None and progress.counts_chunk(int(n)):
                    yield from json.loads(item["data"])["differences"]
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def _diff_sk(part: str, segment: int, n: int) -> str:
    return f"{part}#{segment:05d}#{n:08d}"


def _bounded(diff: dict[str, Any]) -> dict[str, Any]:
    """A difference that fits a chunk: an item too large to store whole keeps its keys, not its values."""
    size = len(json.dumps(diff, default=json_default))
    if size <= CHUNK_BYTES // 2:
        return json.loads(json.dumps(diff, default=json_default))
    return {**diff, "attributes": {"_truncated": f"{size} bytes of attribute values not stored"}}


def _chunked(differences: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    chunks: list[list[dict[str, Any]]] = [[]]
    size = 0
    for diff in differences:
        n = len(json.dumps(diff))
        if chunks[-1] and size + n > CHUNK_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(diff)
        size += n
    return chunks


def difference_from_dict(doc: dict[str, Any], migration: Migration | None = None) -> Difference:
    """A stored difference (`Difference.to_dict`) back as a value; its target key in the definition's
    key order, each value of its declared type again (JSON keeps numbers and base64 text)."""
    key = doc.get("v3_key")
    target = (migration or load_migration()).target
    return Difference(
        doc["kind"],
        doc.get("source"),
        doc.get("source_key"),
        None if key is None else tuple(_typed(key.get(k.name), k.type) for k in target.keys),
        doc.get("detail", ""),
        doc.get("attributes") or {},
        doc.get("repaired"),
        bool(doc.get("remaining", True)),
        target.key_names,
    )


def _typed(value: Any, kind: str) -> Any:
    """A key value as JSON stored it, back as DynamoDB's type: N -> Decimal, B (base64 text) -> bytes."""
    if kind == "N" and isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return Decimal(str(value))
    if kind == "B" and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:
            return value
    return value


def report_from_dict(doc: dict[str, Any], migration: Migration | None = None) -> ReconcileReport:
    """The merged report stored under `report` (`ReconcileReport.to_dict`) back as a value."""
    report = ReconcileReport(
        doc["started_at"],
        doc["finished_at"],
        dict(doc["counts"]),
        doc.get("sample"),
        doc.get("report_path"),
        bool(doc.get("repair")),
        float(doc.get("seconds", 0.0)),
        [difference_from_dict(d, migration) for d in doc.get("differences_shown", [])],
    )
    report.run_id, report.evidence = str(doc.get("run_id", "")), dict(doc.get("at_start") or {})
    return report
