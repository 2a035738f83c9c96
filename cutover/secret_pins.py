"""Which version of each transform secret is pinned now: the definition's, until an operator rotates it.

The definition's `Secret.version` is the initial pin. A rotation (`cutover secrets rotate`) is an
operator's decision recorded in the checkpoints table (pk `secret-pin`, sk the secret's name), so
every reader -- each Lambda at cold start, each CLI run -- binds the RECORDED version when there is
one, without a redeploy. The record is a compare-and-set on its revision: of two rotations at once
one lands, the other is told. It carries the time on the backend's clock, which the flip gate
compares with the start of the next full repair (`controlplane.gate_secrets`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cutover.migration import Migration, Secret
from cutover.state import CheckpointStore

PIN_PK = "secret-pin"  # the only partition key a transforming Lambda may read (infra/constructs/secrets.py)


@dataclass(frozen=True)
class Pin:
    secret: str
    version: int  # what transforms read now
    declared: int  # the definition's version (the initial pin)
    rotated_at: str | None = None  # None: never rotated
    previous_version: int | None = None
    revision: int = 0  # the record's compare-and-set revision (0: no record)
    by: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "secret": self.secret,
            "version": self.version,
            "declared_version": self.declared,
            "rotated_at": self.rotated_at,
            "previous_version": self.previous_version,
            "by": self.by,
            "reason": self.reason,
        }


class PinStore:
    """The pins of one migration's secrets, in the checkpoints table."""

    def __init__(self, store: CheckpointStore, migration: Migration) -> None:
        self._store = store
        self.migration = migration

    def pin(self, secret: Secret) -> Pin:
        data = self._store.get(PIN_PK, secret.name)
        if not data:
            return Pin(secret.name, secret.version, secret.version)
        return Pin(
            secret.name,
            int(data["version"]),
            secret.version,
            data.get("rotated_at"),
            data.get("previous_version"),
            int(data.get("revision", 0)),
            data.get("by"),
            data.get("reason"),
        )

    def pins(self) -> list[Pin]:
        return [self.pin(s) for s in self.migration.secrets]

    def recorded(self) -> Mapping[str, int]:
        """name -> version for each secret an operator rotated (the others keep the definition's)."""
        return {p.secret: p.version for p in self.pins() if p.revision}

    def rotations(self) -> list[dict[str, Any]]:
        """The rotated secrets, as the flip gate reads them (`Evidence.rotations`)."""
        return [p.to_dict() for p in self.pins() if p.revision]

    def rotate(self, current: Pin, to_version: int, at: str, by: str | None, reason: str | None) -> bool:
        """Record `to_version` if nobody rotated since `current` was read; False if someone did."""
        data = {
            "version": to_version,
            "previous_version": current.version,
            "rotated_at": at,
            "revision": current.revision + 1,
            "by": by,
            "reason": reason,
        }
        return self._store.put_if_revision(PIN_PK, current.secret, data, current.revision)
