"""The seed transform's own bad-input errors (the engine's are in `cutover.migration`).

Reason codes are the quarantine's: unchanged since the transform lived in `replicator.contract`.
"""

from __future__ import annotations

from cutover.migration import TransformError


class InvalidEmailError(TransformError):
    reason = "invalid_email"


class InvalidUserIdError(TransformError):
    reason = "invalid_user_id"


class InvalidTimestampError(TransformError):
    reason = "invalid_timestamp"
