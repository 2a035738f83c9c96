"""The seed API's reads, routed by the read-source flag through the generic `routing.Router`.

The router does the cut-over (legacy | shadow | v3, fallback, read-your-writes: see
`app_handlers.routing`); this module only says, per read, which two reader functions answer it,
which recent-write marker its writes leave (`ledger`) and how its answers compare (`shadow`):

- `get_user`: the profile; marker `(profile, userId)`.
- `find_by_email`: the user with this e-mail; marker `(email, normalised e-mail)`, and the found
  profile's own marker (v3 found a profile rewritten since).
- `orders_of`: the user's orders (None if the user is absent: a 404, not an empty list); marker
  `(orders, userId)`, one per order placed, and the user's profile marker (the user registered
  again: v3 may list the old one's orders).
Writes made outside the API (no marker) are served from v3 as soon as v3 has them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app_handlers.ledger import Ledger, Scope
from app_handlers.read_source import ReadSource
from app_handlers.repository import UserRepository, normalise_email, orders_or_none
from app_handlers.routing import Flag, Router, Served, ShadowEvidence
from app_handlers.shadow import compare_emails, compare_orders, compare_users
from app_handlers.telemetry import Telemetry

__all__ = ["READS", "ReadService", "Served"]

READS = ("get_user", "find_by_email", "orders_of")  # the kinds of read shadow evidence is kept for


class _CallableFlag:
    """A flag given as a function that already returns a decoded `ReadSource` (a `FlagReader`'s
    `current`, or a fixed value in tests): decoding stays the one reader's."""

    def __init__(self, current: Callable[[], ReadSource]) -> None:
        self.current = current


class ReadService:
    def __init__(
        self,
        legacy: UserRepository,
        v3: UserRepository,
        flag: Flag | Callable[[], ReadSource],
        telemetry: Telemetry,
        shadow_timeout: float = 0.25,
        shadow_max_in_flight: int = 4,
        ledger: Ledger | None = None,
        evidence: ShadowEvidence | None = None,
    ) -> None:
        self._legacy, self._v3 = legacy, v3
        reader = flag if isinstance(flag, Flag) else _CallableFlag(flag)
        self._router = Router(reader, telemetry, shadow_timeout, shadow_max_in_flight, marks=ledger, evidence=evidence)

    def get_user(self, user_id: str) -> Served[Any]:
        return self._router.read(
            "get_user",
            {"userId": user_id},
            lambda: self._legacy.get_user(user_id),
            lambda: self._v3.get_user(user_id),
            mark=(Scope.PROFILE, user_id),
            compare=compare_users,
        )

    def find_by_email(self, email: str) -> Served[Any]:
        return self._router.read(
            "find_by_email",
            {"email": email},
            lambda: self._legacy.find_by_email(email),
            lambda: self._v3.find_by_email(email),
            mark=(Scope.EMAIL, normalise_email(email)),
            related=lambda user: [(Scope.PROFILE, str(user.get("userId")))] if isinstance(user, dict) else [],
            compare=compare_emails(self._legacy.get_user),
        )

    def orders_of(self, user_id: str) -> Served[Any]:
        return self._router.read(
            "orders_of",
            {"userId": user_id},
            lambda: orders_or_none(self._legacy, user_id),
            lambda: orders_or_none(self._v3, user_id),
            mark=(Scope.ORDERS, user_id),
            related=lambda _: [(Scope.PROFILE, user_id)],
            compare=compare_orders(user_id, self._legacy.get_user),
        )
