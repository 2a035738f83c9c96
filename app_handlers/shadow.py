"""Shadow mode: serve legacy, compare v3 in the background, never let v3 affect the response.

Bounded and observable: at most `max_in_flight` v3 reads run at once (one worker each, so nothing
queues behind a hanging v3). A read that finds every slot busy skips the comparison at once and
counts `ShadowSkipped`; a v3 read slower than `timeout` counts `ShadowV3Error` and keeps its slot
until it returns (a Python thread cannot be killed; the client's own read timeout ends it), so a
hanging v3 shows up as a steady `ShadowSkipped` rate instead of silently wedged comparisons.

Comparison is item by item: for an order list, each order is classified on its own, so one
order the contract quarantines does not hide a wrong amount on another. Classes:
- `ShadowMismatch`: v3 differs from transform(legacy) for a transformable legacy record.
- `ShadowUncomparable`: the legacy record is one the transform rejects (it is in quarantine).
- `ShadowEmailImprovement`: v3 finds a user by normalised e-mail that legacy's `email-index`
  (raw e-mails as typed) misses, and transform(that legacy user) equals the v3 user.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from app_handlers.records import MISSING_IN_LEGACY, MISSING_IN_V3, differences, transformable
from app_handlers.repository import UserRepository
from app_handlers.telemetry import (
    SHADOW_EMAIL_IMPROVEMENT,
    SHADOW_ERROR,
    SHADOW_MISMATCH,
    SHADOW_SKIPPED,
    SHADOW_UNCOMPARABLE,
    Telemetry,
)
from migrations.seed.transform import ORDERS, USERS

Query = Callable[[UserRepository], Any]


class Shadow:
    def __init__(
        self, legacy: UserRepository, v3: UserRepository, telemetry: Telemetry, timeout: float, max_in_flight: int
    ) -> None:
        self._legacy, self._v3, self._t, self._timeout = legacy, v3, telemetry, timeout
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._pool = ThreadPoolExecutor(max_workers=max_in_flight, thread_name_prefix="shadow")

    def serve(self, op: str, keys: dict[str, str], query: Query) -> Any:
        """The legacy answer; v3's is compared if it arrives within the time box."""
        if not self._slots.acquire(blocking=False):
            self._t.event(SHADOW_SKIPPED, "shadow comparison skipped: every v3 slot is busy", op=op, keys=keys)
            return query(self._legacy)
        try:
            future = self._pool.submit(self._in_slot, query)
        except RuntimeError:  # the pool is shut down (interpreter exit)
            self._slots.release()
            return query(self._legacy)
        legacy = query(self._legacy)
        try:
            v3 = future.result(timeout=self._timeout)
        except FutureTimeout:
            self._t.event(SHADOW_ERROR, "shadow v3 read timed out", op=op, keys=keys, error=f"over {self._timeout}s")
            return legacy
        except Exception as exc:  # noqa: BLE001 - v3 must never affect the response
            self._t.event(SHADOW_ERROR, "shadow v3 read failed", op=op, keys=keys, error=repr(exc))
            return legacy
        self._compare(op, keys, legacy, v3)
        return legacy

    def _in_slot(self, query: Query) -> Any:
        try:
            return query(self._v3)
        finally:
            self._slots.release()

    def _compare(self, op: str, keys: dict[str, str], legacy: Any, v3: Any) -> None:
        if op == "find_by_email" and legacy is None and isinstance(v3, dict) and self._improvement(v3):
            self._t.event(
                SHADOW_EMAIL_IMPROVEMENT,
                "v3 finds this e-mail normalised; legacy's index holds it as typed (expected)",
                level="info",
                op=op,
                keys=keys,
                userId=v3.get("userId"),
            )
            return
        mismatched, uncomparable = self._classify(keys, legacy, v3)
        if uncomparable:
            self._t.event(
                SHADOW_UNCOMPARABLE,
                "legacy record is quarantined by the contract; not compared",
                level="info",
                op=op,
                keys=keys,
                differing=uncomparable,
            )
        if mismatched:
            message = "shadow mismatch between legacy and v3"
            self._t.event(SHADOW_MISMATCH, message, op=op, keys=keys, differing=mismatched)

    def _improvement(self, v3_user: dict[str, Any]) -> bool:
        """transform(the legacy user with v3's userId) equals the v3 user."""
        legacy_user = self._legacy.get_user(str(v3_user.get("userId")))
        return legacy_user is not None and not differences(legacy_user, v3_user)

    def _classify(self, keys: dict[str, str], legacy: Any, v3: Any) -> tuple[list[str], list[str]]:
        """(mismatched, uncomparable) difference names."""
        mismatched: list[str] = []
        uncomparable: list[str] = []
        if isinstance(legacy, list) and isinstance(v3, list):
            by_id_l = {str(r.get("orderId")): r for r in legacy}
            by_id_v = {str(r.get("orderId")): r for r in v3}
            for order_id in sorted(set(by_id_l) | set(by_id_v)):
                diffs = [f"{order_id}:{d}" for d in differences(by_id_l.get(order_id), by_id_v.get(order_id))]
                order = by_id_l.get(order_id)
                quarantined = order is not None and not transformable(ORDERS, order)
                (uncomparable if quarantined else mismatched).extend(diffs)
            return mismatched, uncomparable
        if isinstance(legacy, list) or isinstance(v3, list):  # the user exists on one side only
            diffs = [MISSING_IN_V3 if v3 is None else MISSING_IN_LEGACY]
            user = self._legacy.get_user(keys["userId"]) if legacy is not None and "userId" in keys else None
            quarantined = user is not None and not transformable(USERS, user)
            return ([], diffs) if quarantined else (diffs, [])
        diffs = differences(legacy, v3)
        quarantined = isinstance(legacy, dict) and not transformable(USERS, legacy)
        return ([], diffs) if quarantined else (diffs, [])
