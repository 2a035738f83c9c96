"""Reads dispatched by the read-source flag: legacy, shadow (serve legacy, compare v3) or v3.

- shadow (`shadow.Shadow`): v3 is read concurrently, time-boxed and bounded; its errors,
  slowness and differences are logged and counted, never served.
- v3: writes go to legacy and reach v3 through replication, so v3 alone cannot read the API's
  own writes back. A GET after a successful `POST` must return what that write stored, whatever
  the lag. Two mechanisms, cheapest first:
  1. a v3 miss (absent or tombstoned) or error falls back to legacy (`V3Fallback` / `V3Error`);
  2. a v3 HIT is checked against the recent-write markers the write committed in its own
     transaction (`ledger`): if the key was written through the API and v3 may not reflect it yet,
     legacy answers (`V3ReadThrough`); once v3 gives the same answer the marker is removed, so
     read-through lasts only as long as the lag. Why markers and not `_version` freshness: legacy
     items carry no version to compare with, and reading legacy on every request would make v3
     mode pointless; a marker costs one strongly consistent GetItem on a v3 hit.
  Writes made outside the API (no marker) are served from v3 as soon as v3 has them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app_handlers.ledger import Ledger, Mark, Scope
from app_handlers.read_source import ReadSource
from app_handlers.records import differences
from app_handlers.repository import UserRepository, normalise_email, orders_or_none
from app_handlers.shadow import Shadow
from app_handlers.telemetry import V3_ERROR, V3_FALLBACK, V3_READ_THROUGH, Telemetry

Query = Callable[[UserRepository], Any]


@dataclass(frozen=True)
class Served:
    value: Any  # a record, a list of records, or None (-> 404)
    source: str  # which table's answer was served: legacy | v3


class ReadService:
    def __init__(
        self,
        legacy: UserRepository,
        v3: UserRepository,
        flag: Callable[[], ReadSource],
        telemetry: Telemetry,
        shadow_timeout: float = 0.25,
        shadow_max_in_flight: int = 4,
        ledger: Ledger | None = None,
    ) -> None:
        self._legacy, self._v3, self._flag, self._t, self._ledger = legacy, v3, flag, telemetry, ledger
        self._shadow = Shadow(legacy, v3, telemetry, shadow_timeout, shadow_max_in_flight)

    def get_user(self, user_id: str) -> Served:
        return self._read("get_user", {"userId": user_id}, lambda r: r.get_user(user_id), (Scope.PROFILE, user_id))

    def find_by_email(self, email: str) -> Served:
        mark = (Scope.EMAIL, normalise_email(email))
        return self._read("find_by_email", {"email": email}, lambda r: r.find_by_email(email), mark)

    def orders_of(self, user_id: str) -> Served:
        mark = (Scope.ORDERS, user_id)
        return self._read("orders_of", {"userId": user_id}, lambda r: orders_or_none(r, user_id), mark)

    def _read(self, op: str, keys: dict[str, str], query: Query, mark: Mark) -> Served:
        mode = self._flag()
        if mode is ReadSource.SHADOW:
            return Served(self._shadow.serve(op, keys, query), "legacy")
        if mode is ReadSource.V3:
            return self._v3_first(op, keys, query, mark)
        return Served(query(self._legacy), "legacy")

    def _v3_first(self, op: str, keys: dict[str, str], query: Query, mark: Mark) -> Served:
        try:
            value = query(self._v3)
        except Exception as exc:  # noqa: BLE001 - fall back rather than fail the request
            self._t.event(
                V3_ERROR, "v3 read failed, falling back to legacy", level="error", op=op, keys=keys, error=repr(exc)
            )
            value = None
        if value is None:
            self._t.event(V3_FALLBACK, "v3 miss, falling back to legacy", level="info", op=op, keys=keys)
            return Served(query(self._legacy), "legacy")
        marks = self._marks(op, keys, mark, value)
        if marks is None:
            return Served(query(self._legacy), "legacy")
        if not marks:
            return Served(value, "v3")
        legacy = query(self._legacy)
        self._t.event(
            V3_READ_THROUGH, "written recently through the API: legacy answers", level="info", op=op, keys=keys
        )
        if mark in marks and not differences(legacy, value) and self._ledger is not None:
            self._ledger.clear(mark, marks[mark])
        return Served(legacy, "legacy")

    def _marks(self, op: str, keys: dict[str, str], mark: Mark, value: Any) -> dict[Mark, str] | None:
        """The recent-write markers that make v3's answer suspect; None if they cannot be read
        (then legacy answers: it is always right, v3 may not be)."""
        if self._ledger is None:
            return {}
        wanted = [mark]
        if op == "orders_of":
            wanted.append((Scope.PROFILE, keys["userId"]))  # the user re-registered: v3 lists the old one's
        if op == "find_by_email" and isinstance(value, dict):
            wanted.append((Scope.PROFILE, str(value.get("userId"))))  # v3 found a profile written since
        try:
            return self._ledger.recent(wanted)
        except Exception as exc:  # noqa: BLE001 - unknown freshness: legacy answers
            self._t.event(
                V3_ERROR, "recent-write markers unreadable, legacy answers", level="error", op=op, error=repr(exc)
            )
            return None
