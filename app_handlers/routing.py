"""Read-source routing for any application during a cut-over: give it your two reader functions.

Every application that moves from legacy tables to the target needs the same four things while
it does, and none of them depends on its schema, so they live here and the seed API
(`app_handlers.reads`) is only their first user:

- **the flag** (`Flag`, `FlagReader`): legacy | shadow | v3, read through ONE reader that owns
  decoding. A missing or unknown value is never read as `legacy` silently: the reader serves
  legacy (always right) and says so with `FlagInvalid`; a store it cannot reach is
  `FlagUnreadable` (the flag is not at fault). Where the value lives is a `FlagValues` (the flip control item
  today, `app_handlers.read_source`), so moving the flag's owner, or adding values, changes one place.
- **shadow** (`Router` in shadow mode): legacy is served; v3 is read beside it, time-boxed and
  bounded (at most `shadow_max_in_flight` v3 reads at once, one worker each, so nothing queues
  behind a hanging v3: a read that finds every slot busy skips the comparison and counts
  `ShadowSkipped`; a v3 read slower than `shadow_timeout` or failing counts `ShadowV3Error` and
  keeps its slot until it returns). v3's answer is compared, never served. Each shadow read's
  outcome (match | mismatch | expected | uncomparable | skipped | error) goes to the router's
  `ShadowEvidence`, if given (`app_handlers.shadow_recorder`): the flip gate's evidence. It must not
  do I/O on the read's thread; if it raises, the read is still served (`ShadowRecordFailed`).
- **comparison item by item** (`ItemCompare`): a list is compared element by element, matched by
  the identity the application gives (a key function), so one element v3 may lack (the transform
  rejects it: `ShadowUncomparable`) does not hide a wrong value on another (`ShadowMismatch`).
- **v3 with legacy fallback and read-your-writes** (`Router` in v3 mode): a v3 miss (None) or
  error falls back to legacy (`V3Fallback`, `V3Error`). The application writes to legacy and v3
  gets the write through replication, so a v3 HIT may still be older than the application's own
  write: a write records a marker (`MarkStore`: the write and what a read returns for it, in the
  write's own transaction) and a read that meets one is answered by legacy (`V3ReadThrough`).
  The marker is cleared only by evidence that v3 holds that write: v3's answer contains what the
  marker says was written. Two reads agreeing are no such evidence (legacy's own indexes lag too,
  so both can agree on the state before the write); a marker whose write was since changed
  outside the application is never evidenced and expires with the store's TTL, legacy answering
  until then.

A reader returns the application's answer or None ("not found": a miss). Values are compared by
DynamoDB's types (`cutover.ddb_values`); attributes starting with `_` are bookkeeping, never compared.
Nothing here imports an AWS SDK: the stores are protocols.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, cast, runtime_checkable

from controlplane.flag import ReadSource
from cutover import ddb_values
from cutover.metrics import (
    FLAG_INVALID,
    FLAG_UNREADABLE,
    SHADOW_ERROR,
    SHADOW_MISMATCH,
    SHADOW_RECORD_FAILED,
    SHADOW_SKIPPED,
    SHADOW_UNCOMPARABLE,
    V3_ERROR,
    V3_FALLBACK,
    V3_READ_THROUGH,
)

__all__ = [
    "MISSING_IN_LEGACY",
    "MISSING_IN_V3",
    "Comparison",
    "Events",
    "Expected",
    "Flag",
    "FlagReader",
    "FlagRefusesWrites",
    "FlagUnavailable",
    "FlagValues",
    "ItemCompare",
    "MarkStore",
    "Marker",
    "MemoryFlagValues",
    "MemoryMarks",
    "ReadSource",
    "Router",
    "ShadowEvidence",
    "Served",
    "differences",
    "holds_written",
]

T = TypeVar("T")
MISSING_IN_V3 = "<missing in v3>"
MISSING_IN_LEGACY = "<missing in legacy>"
LEGACY, V3 = "legacy", "v3"  # `Served.source`: which side's answer was served


class Events(Protocol):
    """Where routing reports what it did: count `metric` and log one structured line
    (`app_handlers.telemetry.Telemetry` is one)."""

    def event(self, metric: str, message: str, level: str = "warning", **fields: Any) -> None: ...


class ShadowEvidence(Protocol):
    """Where the router reports each shadow read's outcome (`OUTCOMES` of `controlplane.shadow_evidence`)."""

    def record(self, op: str, keys: Mapping[str, Any], outcome: str, differing: Sequence[str] = ()) -> None: ...


# --- the flag ---------------------------------------------------------------------------------------


@runtime_checkable
class Flag(Protocol):
    """Which side reads are routed to, now."""

    def current(self) -> ReadSource: ...


class FlagUnavailable(Exception):
    """The flag's store cannot be read (network, permission): the flag itself is not at fault."""

    def __init__(self, cause: BaseException, fix: str) -> None:
        super().__init__(str(cause))
        self.cause, self.fix = cause, fix


class FlagRefusesWrites(Exception):
    """The flag holds no value this version knows: a write must not guess where it goes."""


class FlagValues(Protocol):
    """Where the flag's raw value lives (an SSM parameter, a control item...), named for messages."""

    name: str

    def read(self) -> str | None:
        """The stored value as text, None if nothing is stored. Raises FlagUnavailable."""
        ...


class FlagReader:
    """The one reader of the flag: every value, from any store, is decoded here.

    Anything but a known value serves legacy, loudly: `FlagInvalid` (missing or unknown: an
    operator fixes the flag) or `FlagUnreadable` (the store cannot be reached), both at error level.
    A write asks `for_writes`: a missing or unknown value refuses it (`FlagInvalid` too).
    """

    def __init__(self, values: FlagValues, telemetry: Events) -> None:
        self._values, self._telemetry = values, telemetry

    @property
    def name(self) -> str:
        return self._values.name

    def current(self) -> ReadSource:
        return self._read(for_writes=False) or ReadSource.LEGACY

    def for_writes(self) -> ReadSource:
        """The flag as a write sees it. Raises FlagRefusesWrites if it holds no known value (a value
        this version does not know may be a later phase that sends writes elsewhere); an unreadable
        store is legacy, as for reads: writes have always gone to legacy."""
        return self._read(for_writes=True) or ReadSource.LEGACY

    def _read(self, for_writes: bool) -> ReadSource | None:
        try:
            raw = self._values.read()
        except FlagUnavailable as exc:
            cause = exc.cause
            self._telemetry.event(
                FLAG_UNREADABLE,
                f"cannot read the read-source flag {self.name}, serving legacy: {cause}. {exc.fix}",
                level="error",
                parameter=self.name,
                error=f"{type(cause).__name__}: {cause}",
            )
            return ReadSource.LEGACY
        if raw is None:
            self._invalid(f"{self.name} holds no value", None, for_writes)
            return None
        try:
            return ReadSource(raw.strip())
        except ValueError:
            known = "|".join(s.value for s in ReadSource)
            self._invalid(f"{self.name} holds {raw!r}, not one of {known}", raw, for_writes)
            return None

    def _invalid(self, why: str, value: str | None, for_writes: bool) -> None:
        what = "refusing the write" if for_writes else "serving legacy"
        self._telemetry.event(
            FLAG_INVALID,
            f"read-source flag invalid, {what}: {why}. Fix with `cutover flip legacy`",
            level="error",
            parameter=self.name,
            value=value,
        )
        if for_writes:
            raise FlagRefusesWrites(f"writes are refused: {why}. Fix the flag with `cutover flip legacy`")


@dataclass
class MemoryFlagValues:
    """A flag value held in memory (tests, a local run): set `value`, None for "not stored"."""

    value: str | None = ReadSource.LEGACY.value
    name: str = "in-memory read-source flag"

    def read(self) -> str | None:
        return self.value


# --- read-your-writes markers -----------------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    """One write the application made at the source that v3 may not hold yet.

    `id` tells writes under one mark apart ("" for a single record: a later write replaces the
    marker; an element's identity for a list, so each written element waits for its own
    evidence); `token` is this write's, so clearing never removes a newer write's marker;
    `written` is what a read of the mark returns for that write: the evidence to find in v3."""

    id: str
    token: str
    written: Any


class MarkStore(Protocol):
    """Recent-write markers, written in the same transaction as the write they belong to. A mark
    is the application's own (hashable) name for what a write touched, as passed to `Router.read`."""

    def marked(self, mark: Any) -> Sequence[Marker]:
        """The markers of `mark`, read strongly consistently; empty if none."""
        ...

    def clear(self, mark: Any, marker: Marker) -> None:
        """Remove `marker` unless a newer write replaced it (then do nothing)."""
        ...


@dataclass
class MemoryMarks:
    """A `MarkStore` in memory (tests, examples): `mark` stands for the write's transaction."""

    markers: dict[Hashable, dict[str, Marker]] = field(default_factory=dict)

    def mark(self, mark: Hashable, written: Any, id: str = "") -> Marker:
        marker = Marker(id, uuid.uuid4().hex, written)
        self.markers.setdefault(mark, {})[id] = marker
        return marker

    def marked(self, mark: Hashable) -> Sequence[Marker]:
        return list(self.markers.get(mark, {}).values())

    def clear(self, mark: Hashable, marker: Marker) -> None:
        current = self.markers.get(mark, {})
        if marker.id in current and current[marker.id].token == marker.token:
            del current[marker.id]


def holds_written(value: Any, written: Any) -> bool:
    """True if v3's answer `value` contains the write: equals it, or (a list) has an element equal to it."""
    if written is None or value is None:
        return False
    candidates = value if isinstance(value, list) else [value]
    return any(not differences(candidate, written) for candidate in candidates)


# --- comparison -------------------------------------------------------------------------------------


def differences(legacy: Any, v3: Any, identity: Callable[[Any], Hashable] | None = None) -> list[str]:
    """What differs between two answers: attribute names for records, `<id>:<name>` for list
    elements (matched by `identity`, by position without one), MISSING_IN_* for a side without."""
    if isinstance(legacy, list) or isinstance(v3, list):
        return _element_differences(legacy or [], v3 or [], identity)
    if legacy is None and v3 is None:
        return []
    if v3 is None:
        return [MISSING_IN_V3]
    if legacy is None:
        return [MISSING_IN_LEGACY]
    if isinstance(legacy, Mapping) and isinstance(v3, Mapping):
        return ddb_values.differing(legacy, v3)
    return [] if ddb_values.equal(legacy, v3) else ["<value>"]


def _by_identity(elements: list[Any], identity: Callable[[Any], Hashable] | None) -> dict[Hashable, Any]:
    return {(identity(e) if identity else n): e for n, e in enumerate(elements)}


def _sorted_ids(ids: Iterable[Hashable], identity: Callable[[Any], Hashable] | None) -> Sequence[Hashable]:
    """By the identity's text; positions (no identity) in numeric order."""
    return sorted(ids, key=str) if identity else sorted(cast("Iterable[int]", ids))


def _element_differences(legacy: list[Any], v3: list[Any], identity: Callable[[Any], Hashable] | None) -> list[str]:
    mine, theirs = _by_identity(legacy, identity), _by_identity(v3, identity)
    out: list[str] = []
    for key in _sorted_ids(mine.keys() | theirs.keys(), identity):
        out += [f"{key}:{d}" for d in differences(mine.get(key), theirs.get(key))]
    return out


@dataclass(frozen=True)
class Expected:
    """A known, explained difference (counted as `metric`, logged at info with `fields`), not a mismatch."""

    metric: str
    message: str
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Comparison:
    """One shadow comparison's verdict: `mismatched` differences are findings; `uncomparable` ones are
    on legacy records the transform rejects (v3 may lack them); `expected` explains the whole difference."""

    mismatched: Sequence[str] = ()
    uncomparable: Sequence[str] = ()
    expected: Expected | None = None


class ItemCompare:
    """The default comparison: records attribute by attribute, lists element by element.

    `identity` is a list element's identity (its key; by position without one). `comparable(legacy
    record)` is False for a record the transform rejects: its differences are uncomparable.
    """

    def __init__(
        self, identity: Callable[[Any], Hashable] | None = None, comparable: Callable[[Any], bool] | None = None
    ) -> None:
        self._identity, self._comparable = identity, comparable

    def _rejected(self, legacy: Any) -> bool:
        return legacy is not None and self._comparable is not None and not self._comparable(legacy)

    def __call__(self, legacy: Any, v3: Any) -> Comparison:
        if isinstance(legacy, list) and isinstance(v3, list):
            mine, theirs = _by_identity(legacy, self._identity), _by_identity(v3, self._identity)
            mismatched: list[str] = []
            uncomparable: list[str] = []
            for key in _sorted_ids(mine.keys() | theirs.keys(), self._identity):
                diffs = [f"{key}:{d}" for d in differences(mine.get(key), theirs.get(key))]
                (uncomparable if self._rejected(mine.get(key)) else mismatched).extend(diffs)
            return Comparison(mismatched, uncomparable)
        diffs = differences(legacy, v3, self._identity)
        return Comparison((), diffs) if self._rejected(legacy) else Comparison(diffs)


DEFAULT_COMPARE = ItemCompare()


# --- the router -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Served(Generic[T]):
    value: T  # the application's answer; None is "not found"
    source: str  # whose answer was served: legacy | v3


class Router:
    """Routes one application's reads by the flag; see the module docstring for each mode."""

    def __init__(
        self,
        flag: Flag,
        telemetry: Events,
        shadow_timeout: float = 0.25,
        shadow_max_in_flight: int = 4,
        marks: MarkStore | None = None,
        evidence: ShadowEvidence | None = None,
    ) -> None:
        self._flag, self._t, self._marks, self._timeout = flag, telemetry, marks, shadow_timeout
        self._evidence = evidence
        self._max_in_flight, self._in_flight = shadow_max_in_flight, 0
        self._idle = threading.Condition()
        self._pool = ThreadPoolExecutor(max_workers=shadow_max_in_flight, thread_name_prefix="shadow")

    def read(
        self,
        op: str,
        keys: Mapping[str, Any],
        legacy: Callable[[], T],
        v3: Callable[[], T],
        *,
        mark: Hashable | None = None,
        related: Callable[[T], Iterable[Hashable]] | None = None,
        compare: Callable[[T, T], Comparison] = DEFAULT_COMPARE,
        holds: Callable[[T, Any], bool] = holds_written,
    ) -> Served[T]:
        """One read named `op` (logged with `keys`), answered by `legacy()` or `v3()` as the flag says.

        `mark` is the marker this read's own writes leave (cleared here once `holds(v3 answer,
        written)`); `related(v3 answer)` names other marks that make v3's answer suspect (a
        re-written parent record, the record v3 found), cleared by their own reads.
        """
        mode = self._flag.current()
        if mode is ReadSource.SHADOW:
            return Served(self._shadow(op, keys, legacy, v3, compare), LEGACY)
        if mode is ReadSource.V3:
            return self._v3_first(op, keys, legacy, v3, mark, related, holds)
        return Served(legacy(), LEGACY)

    @property
    def in_flight(self) -> int:
        """Shadow v3 reads still running (each holds a slot until it returns)."""
        return self._in_flight

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no shadow v3 read is running; False if some still are after `timeout` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    # --- shadow ----------------------------------------------------------------------------------
    def _shadow(
        self,
        op: str,
        keys: Mapping[str, Any],
        legacy: Callable[[], T],
        v3: Callable[[], T],
        compare: Callable[[T, T], Comparison],
    ) -> T:
        future = self._submit(v3)
        if future is None:
            self._t.event(SHADOW_SKIPPED, "shadow comparison skipped: every v3 slot is busy", op=op, keys=keys)
            self._record(op, keys, "skipped")
            return legacy()
        served = legacy()
        try:
            theirs = future.result(timeout=self._timeout)
        except FutureTimeout:
            self._t.event(SHADOW_ERROR, "shadow v3 read timed out", op=op, keys=keys, error=f"over {self._timeout}s")
            self._record(op, keys, "error")
            return served
        except Exception as exc:  # noqa: BLE001 - v3 must never affect the response
            self._t.event(SHADOW_ERROR, "shadow v3 read failed", op=op, keys=keys, error=repr(exc))
            self._record(op, keys, "error")
            return served
        try:
            verdict = compare(served, theirs)
        except Exception as exc:  # noqa: BLE001 - nor may comparing it
            self._t.event(SHADOW_ERROR, "shadow comparison failed", op=op, keys=keys, error=repr(exc))
            self._record(op, keys, "error")
            return served
        self._report(op, keys, verdict)
        return served

    def _record(self, op: str, keys: Mapping[str, Any], outcome: str, differing: Sequence[str] = ()) -> None:
        if self._evidence is None:
            return
        try:
            self._evidence.record(op, keys, outcome, differing)
        except Exception as exc:  # noqa: BLE001 - evidence is never worth a failed read
            self._t.event(
                SHADOW_RECORD_FAILED, "shadow evidence not recorded", level="error", op=op, keys=keys, error=repr(exc)
            )

    def _submit(self, v3: Callable[[], T]) -> Future[T] | None:
        """v3's read on a free slot; None if every slot is busy (or the pool is shut down)."""
        with self._idle:
            if self._in_flight >= self._max_in_flight:
                return None
            self._in_flight += 1
        try:
            return self._pool.submit(self._in_slot, v3)
        except RuntimeError:  # the pool is shut down (interpreter exit)
            self._release()
            return None

    def _in_slot(self, v3: Callable[[], T]) -> T:
        try:
            return v3()
        finally:
            self._release()

    def _release(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    def _report(self, op: str, keys: Mapping[str, Any], verdict: Comparison) -> None:
        if verdict.expected is not None:
            e = verdict.expected
            self._t.event(e.metric, e.message, level="info", op=op, keys=keys, **e.fields)
            self._record(op, keys, "expected")
            return
        if verdict.uncomparable:
            self._t.event(
                SHADOW_UNCOMPARABLE,
                "legacy record is quarantined by the contract; not compared",
                level="info",
                op=op,
                keys=keys,
                differing=list(verdict.uncomparable),
            )
        if verdict.mismatched:
            message = "shadow mismatch between legacy and v3"
            self._t.event(SHADOW_MISMATCH, message, op=op, keys=keys, differing=list(verdict.mismatched))
            self._record(op, keys, "mismatch", list(verdict.mismatched))
        else:  # one outcome per read: a mismatch anywhere in it is the one that matters
            self._record(op, keys, "uncomparable" if verdict.uncomparable else "match")

    # --- v3 --------------------------------------------------------------------------------------
    def _v3_first(
        self,
        op: str,
        keys: Mapping[str, Any],
        legacy: Callable[[], T],
        v3: Callable[[], T],
        mark: Hashable | None,
        related: Callable[[T], Iterable[Hashable]] | None,
        holds: Callable[[T, Any], bool],
    ) -> Served[T]:
        try:
            value: T | None = v3()
        except Exception as exc:  # noqa: BLE001 - fall back rather than fail the request
            self._t.event(
                V3_ERROR, "v3 read failed, falling back to legacy", level="error", op=op, keys=keys, error=repr(exc)
            )
            value = None
        if value is None:
            self._t.event(V3_FALLBACK, "v3 miss, falling back to legacy", level="info", op=op, keys=keys)
            return Served(legacy(), LEGACY)
        found = self._marked(op, [*([] if mark is None else [mark]), *(related(value) if related else [])])
        if found is None:
            return Served(legacy(), LEGACY)
        if not any(found.values()):
            return Served(value, V3)
        served = legacy()
        self._t.event(
            V3_READ_THROUGH, "written recently through the API: legacy answers", level="info", op=op, keys=keys
        )
        if self._marks is not None and mark is not None:
            for marker in found.get(mark, ()):
                if holds(value, marker.written):  # evidence that v3 holds this write
                    self._marks.clear(mark, marker)
        return Served(served, LEGACY)

    def _marked(self, op: str, marks: list[Hashable]) -> dict[Hashable, Sequence[Marker]] | None:
        """The markers that make v3's answer suspect; None if they cannot be read (then legacy
        answers: it is always right, v3 may not be)."""
        if self._marks is None or not marks:
            return {}
        try:
            return {m: self._marks.marked(m) for m in dict.fromkeys(marks)}
        except Exception as exc:  # noqa: BLE001 - unknown freshness: legacy answers
            self._t.event(
                V3_ERROR, "recent-write markers unreadable, legacy answers", level="error", op=op, error=repr(exc)
            )
            return None
