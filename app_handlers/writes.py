"""Writes go to legacy, the source of truth during the migration; v3 gets them via replication."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Protocol

from app_handlers.errors import Conflict, RecordNotFound
from app_handlers.records import Record
from app_handlers.schemas import CreateOrder, CreateUser
from cutover.clock import utc_now


class LegacyWriter(Protocol):
    def email_taken(self, email: str) -> bool: ...
    def get_user(self, user_id: str) -> Record | None: ...
    def put_user(self, user_id: str, email: str, name: str, created_at: str) -> Record: ...
    def put_order(self, order_id: str, user_id: str, amount, currency: str, created_at: str) -> Record: ...


class Writes:
    def __init__(
        self,
        legacy: LegacyWriter,
        clock: Callable[[], str] = utc_now,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        normalised_lookup: Callable[[str], object] | None = None,
    ) -> None:
        self._legacy, self._clock, self._new_id = legacy, clock, new_id
        self._normalised_lookup = normalised_lookup

    def _email_taken(self, email: str) -> bool:
        """Legacy's `email-index` holds emails as typed years ago (" Ann@X.com"), so an exact
        query misses them; v3's EmailLookupIndex holds the normalised form of the same users.
        Consulted best-effort: if v3 is unavailable, the legacy check alone decides."""
        if self._legacy.email_taken(email):
            return True
        if self._normalised_lookup is None:
            return False
        try:
            return self._normalised_lookup(email) is not None
        except Exception:  # noqa: BLE001 - v3 must not block registrations
            return False

    def register_user(self, req: CreateUser) -> Record:
        """Raises Conflict if the (normalised) email or the requested userId is already taken."""
        if self._email_taken(req.email):
            raise Conflict(f"a user with email {req.email!r} already exists: look it up with GET /users?email=...")
        user_id = req.userId or self._new_id()
        if req.userId and self._legacy.get_user(user_id) is not None:
            raise Conflict(f"user {user_id!r} already exists: omit userId to have one generated")
        return self._legacy.put_user(user_id, req.email, req.name, self._clock())

    def place_order(self, req: CreateOrder) -> Record:
        """Raises RecordNotFound if the user does not exist in legacy (the source of truth)."""
        if self._legacy.get_user(req.userId) is None:
            raise RecordNotFound(f"user {req.userId!r} not found: register it with POST /users first")
        return self._legacy.put_order(
            req.orderId or self._new_id(), req.userId, req.amount, req.currency, self._clock()
        )
