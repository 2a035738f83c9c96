"""Reads dispatched by the read-source flag: legacy, shadow (serve legacy, compare v3) or v3.

- shadow: v3 is read concurrently and given at most `shadow_timeout` beyond the legacy read;
  its errors, slowness and differences are logged and counted, never served.
- v3: a miss (absent or tombstoned) or an error falls back to legacy, because writes go to
  legacy and reach v3 through replication: a read right after a write must not 404.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from app_handlers.read_source import ReadSource
from app_handlers.records import differences, transformable
from app_handlers.repository import UserRepository, orders_or_none
from app_handlers.telemetry import (
    SHADOW_ERROR,
    SHADOW_MISMATCH,
    SHADOW_UNCOMPARABLE,
    V3_ERROR,
    V3_FALLBACK,
    Telemetry,
)
from cutover.names import ORDERS, USERS

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
    ) -> None:
        self._legacy, self._v3, self._flag, self._t = legacy, v3, flag, telemetry
        self._shadow_timeout = shadow_timeout
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="shadow")

    def get_user(self, user_id: str) -> Served:
        return self._read("get_user", {"userId": user_id}, lambda r: r.get_user(user_id))

    def find_by_email(self, email: str) -> Served:
        return self._read("find_by_email", {"email": email}, lambda r: r.find_by_email(email))

    def orders_of(self, user_id: str) -> Served:
        return self._read("orders_of", {"userId": user_id}, lambda r: orders_or_none(r, user_id))

    def _read(self, op: str, keys: dict[str, str], query: Query) -> Served:
        mode = self._flag()
        if mode is ReadSource.SHADOW:
            return self._shadow(op, keys, query)
        if mode is ReadSource.V3:
            return self._v3_first(op, keys, query)
        return Served(query(self._legacy), "legacy")

    def _shadow(self, op: str, keys: dict[str, str], query: Query) -> Served:
        future = self._pool.submit(query, self._v3)
        legacy = query(self._legacy)
        try:
            v3 = future.result(timeout=self._shadow_timeout)
        except FutureTimeout:
            self._t.event(
                SHADOW_ERROR, "shadow v3 read timed out", op=op, keys=keys, error=f"over {self._shadow_timeout}s"
            )
            return Served(legacy, "legacy")
        except Exception as exc:  # noqa: BLE001 - v3 must never affect the response
            self._t.event(SHADOW_ERROR, "shadow v3 read failed", op=op, keys=keys, error=repr(exc))
            return Served(legacy, "legacy")
        diffs = differences(legacy, v3)
        if diffs and self._quarantinable(keys, legacy):
            self._t.event(
                SHADOW_UNCOMPARABLE,
                "legacy record is quarantined by the contract; not compared",
                level="info",
                op=op,
                keys=keys,
                differing=diffs,
            )
        elif diffs:
            self._t.event(SHADOW_MISMATCH, "shadow mismatch between legacy and v3", op=op, keys=keys, differing=diffs)
        return Served(legacy, "legacy")

    def _v3_first(self, op: str, keys: dict[str, str], query: Query) -> Served:
        try:
            value = query(self._v3)
        except Exception as exc:  # noqa: BLE001 - fall back rather than fail the request
            self._t.event(
                V3_ERROR, "v3 read failed, falling back to legacy", level="error", op=op, keys=keys, error=repr(exc)
            )
            value = None
        if value is not None:
            return Served(value, "v3")
        self._t.event(V3_FALLBACK, "v3 miss, falling back to legacy", level="info", op=op, keys=keys)
        return Served(query(self._legacy), "legacy")

    def _quarantinable(self, keys: dict[str, str], legacy: Any) -> bool:
        """True if the contract lets v3 lack this answer: a legacy record the transform rejects
        (it is in quarantine). Only evaluated when there is a difference, so rarely costs a read."""
        if isinstance(legacy, dict):
            return not transformable(USERS, legacy)
        if isinstance(legacy, list):
            if any(not transformable(ORDERS, o) for o in legacy):
                return True
            user = self._legacy.get_user(keys["userId"]) if "userId" in keys else None
            return user is not None and not transformable(USERS, user)
        return False
