"""What the seed API's shadow comparisons know of its records, on the routing's generic compare.

The routing (`routing.Router`) serves legacy and compares v3 item by item; this says, per read,
what an element's identity is and which legacy records v3 may lack:
- `ShadowMismatch`: v3 differs from transform(legacy) for a transformable legacy record.
- `ShadowUncomparable`: the legacy record is one the transform rejects (it is in quarantine); for
  an order list, per order, so one quarantined order does not hide a wrong amount on another.
- `ShadowEmailImprovement`: v3 finds a user by normalised e-mail that legacy's `email-index`
  (raw e-mails as typed) misses, and transform(that legacy user) equals the v3 user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app_handlers.records import MISSING_IN_LEGACY, MISSING_IN_V3, Record, differences, order_id, transformable
from app_handlers.routing import Comparison, Expected, ItemCompare
from app_handlers.telemetry import SHADOW_EMAIL_IMPROVEMENT
from migrations.seed.transform import ORDERS, USERS

Lookup = Callable[[str], Record | None]  # legacy's get_user

compare_users = ItemCompare(comparable=lambda user: transformable(USERS, user))
_compare_order_lists = ItemCompare(
    identity=lambda order: str(order_id(order)), comparable=lambda order: transformable(ORDERS, order)
)


def compare_emails(legacy_user: Lookup) -> Callable[[Any, Any], Comparison]:
    """A user found by e-mail: an expected improvement if only v3 finds it, normalised, and
    transform(legacy's user of that userId) equals it; otherwise as `compare_users`."""

    def compare(legacy: Any, v3: Any) -> Comparison:
        if legacy is None and isinstance(v3, dict):
            user_id = v3.get("userId")
            found = legacy_user(str(user_id))
            if found is not None and not differences(found, v3):
                message = "v3 finds this e-mail normalised; legacy's index holds it as typed (expected)"
                return Comparison(expected=Expected(SHADOW_EMAIL_IMPROVEMENT, message, {"userId": user_id}))
        return compare_users(legacy, v3)

    return compare


def compare_orders(user_id: str, legacy_user: Lookup) -> Callable[[Any, Any], Comparison]:
    """A user's order list (None: the user is absent), order by order. A list on one side only
    means the user exists on one side only: uncomparable if legacy's user is quarantined."""

    def compare(legacy: Any, v3: Any) -> Comparison:
        if (legacy is None) == (v3 is None):
            return _compare_order_lists(legacy, v3)
        diffs = [MISSING_IN_V3 if v3 is None else MISSING_IN_LEGACY]
        user = legacy_user(user_id) if legacy is not None else None
        quarantined = user is not None and not transformable(USERS, user)
        return Comparison((), diffs) if quarantined else Comparison(diffs)

    return compare
