"""Gathering what the flip interlock and `cutover status` need, from cutover's stores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from controlplane.flag import FlagStore
from controlplane.gate import Evidence
from cutover.clients import Clients
from cutover.settings import Settings
from cutover.state import BACKFILL_RUN, FLIP, RECONCILE, CheckpointStore, ReportStore
from replicator.positions import PositionStore
from replicator.quarantine import QuarantineStore


@dataclass
class Stores:
    """The stores one cut-over decision reads, built from settings."""

    flag: FlagStore
    reports: ReportStore
    quarantine: QuarantineStore
    positions: PositionStore

    @classmethod
    def build(cls, settings: Settings, clients: Clients) -> Stores:
        n = settings.names
        return cls(
            flag=FlagStore(clients.ssm, n.read_source_parameter),
            reports=ReportStore(clients.dynamodb, n.reports_table),
            quarantine=QuarantineStore(clients.dynamodb, n.quarantine_table),
            positions=PositionStore(CheckpointStore(clients.dynamodb, n.checkpoints_table)),
        )

    def evidence(self) -> Evidence:
        return Evidence(
            reconcile=self.reports.latest(RECONCILE),
            quarantine_open=self.quarantine.count_open(),
            lag_seconds=self.positions.lag_seconds(),
        )

    def status(self, flips: int = 5) -> dict[str, Any]:
        """Everything `cutover status` shows, except the verdict (computed by the caller)."""
        return {
            "read_source": self.flag.get(),
            "read_source_parameter": self.flag.parameter,
            "replication": {"lag_seconds": self.positions.lag_seconds(), "positions": self.positions.summary()},
            "backfill": self.reports.latest(BACKFILL_RUN),
            "reconcile": self.reports.latest(RECONCILE),
            "quarantine_open": self.quarantine.count_open(),
            "flips": self.reports.history(FLIP, limit=flips),
        }
