"""The read interface both sources implement, so `reads` can dispatch without knowing tables.

Every method returns presented records (`records` module shape), never raw items, and treats
tombstones as absent.
"""

from __future__ import annotations

from typing import Protocol

from app_handlers.records import Record


class UserRepository(Protocol):
    name: str

    def get_user(self, user_id: str) -> Record | None:
        """The user's profile, or None if absent."""

    def find_by_email(self, email: str) -> Record | None:
        """The user with this email (lowest userId if several), or None."""

    def list_orders(self, user_id: str) -> list[Record]:
        """The user's orders sorted by orderId (empty if none)."""


def normalise_email(email: str) -> str:
    """The contract's email normalisation: surrounding whitespace removed, lower-cased."""
    return email.strip().lower()


def orders_or_none(repo: UserRepository, user_id: str) -> list[Record] | None:
    """The user's orders, or None if the user does not exist in `repo` (a 404, not an empty list)."""
    if repo.get_user(user_id) is None:
        return None
    return repo.list_orders(user_id)
