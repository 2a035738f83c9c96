"""Gathering what the flip interlock and `cutover status` need, from cutover's stores.

`now` is the backend's clock (the HTTP Date of a reports-table read) when it answers, so reports
written by other machines are judged against one clock; the local clock and the measured skew
are recorded with the evidence either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from controlplane.backfill_coverage import HISTORY_RUNS, coverage
from controlplane.failure_queues import FailureQueues
from controlplane.flag import ReadSource, decode, outside_flip
from controlplane.flag_store import FlagStore
from controlplane.gate import Evidence
from controlplane.shadow_evidence import ShadowStore
from controlplane.shadow_phase import read_phase
from cutover.clients import Clients
from cutover.secret_pins import PinStore
from cutover.settings import Settings
from cutover.state import BACKFILL_RUN, CONTROL, FLIP, RECONCILE, RECONCILE_REPAIR, CheckpointStore, ReportStore
from replicator.positions import PositionStore
from replicator.quarantine import QuarantineStore

SHADOW = ReadSource.SHADOW.value
MAX_KEYS = 200  # quarantine keys recorded with an acknowledging flip (the count is always exact)


@dataclass
class Stores:
    """The stores one cut-over decision reads, built from settings."""

    flag: FlagStore
    reports: ReportStore
    quarantine: QuarantineStore
    positions: PositionStore
    queues: FailureQueues
    pins: PinStore | None = None  # the transform secrets' pins (None: not read)
    roles: tuple[str, ...] = ()  # the migration's sources, each of which a complete backfill must cover
    shadow: ShadowStore | None = None  # the API's shadow evidence (None: not read, which the gate refuses)

    @classmethod
    def build(cls, settings: Settings, clients: Clients) -> Stores:
        n = settings.names
        return cls(
            flag=FlagStore(clients.dynamodb, n.reports_table, clients.ssm, n.read_source_parameter),
            reports=ReportStore(clients.dynamodb, n.reports_table),
            quarantine=QuarantineStore(clients.dynamodb, n.quarantine_table, n.migration),
            positions=PositionStore(CheckpointStore(clients.dynamodb, n.checkpoints_table), tables=n.source_tables()),
            queues=FailureQueues(n, clients.sqs, None if settings.is_local else clients.client("cloudwatch")),
            pins=PinStore(CheckpointStore(clients.dynamodb, n.checkpoints_table), n.migration),
            roles=tuple(n.migration.roles),
            shadow=ShadowStore(clients.dynamodb, n.api_table),
        )

    def backfill(self) -> dict[str, Any] | None:
        """The backfill evidence: per source, did the latest run of it finish (`backfill_coverage`)."""
        return coverage(self.reports.history(BACKFILL_RUN, limit=HISTORY_RUNS), self.roles)

    def clock(self) -> tuple[datetime, dict[str, Any]]:
        local = datetime.now(UTC)
        backend = self.reports.server_time()
        info: dict[str, Any] = {"local": local.isoformat(), "source": "backend" if backend else "local"}
        if backend is not None:
            info.update(backend=backend.isoformat(), skew_seconds=round((local - backend).total_seconds(), 3))
        return backend or local, info

    def evidence(self, current_flag: str | None = None) -> Evidence:
        now, clock = self.clock()
        keys = [f"{e.source}#{e.key}" for e in self.quarantine.entries()]
        lags = self.positions.source_lags()
        last_repair = self.reports.latest(RECONCILE_REPAIR)
        current = current_flag if current_flag is not None else self.flag.get()
        return Evidence(
            reconcile=self.reports.latest(RECONCILE),
            quarantine_open=len(keys),
            lag_seconds=None if None in lags.values() else max(lags.values(), default=None),  # type: ignore[type-var]
            now=now,
            current_flag=current,
            backfill=self.backfill(),
            last_repair=last_repair,
            gaps=tuple(self.positions.gaps()),
            lag_by_source=lags,
            quarantine_keys=tuple(keys[:MAX_KEYS]),
            clock=clock,
            failure_queues=self.queues.read((last_repair or {}).get("started_at"), now),
            rotations=tuple(self.pins.rotations()) if self.pins else (),
            shadow=read_phase(self.reports, self.shadow, current) if self.shadow else None,
        )

    def _flag_status(self) -> dict[str, Any]:
        """What readers obey (the owner), the SSM mirror beside it, and whether someone edited the owner by hand."""
        item = self.flag.item()
        return {
            "read_source": decode(item),
            "read_source_owner": f"{self.flag.table} {FLIP}/{CONTROL}",
            "read_source_set_outside_flip": outside_flip(item),
            "read_source_mirror": self.flag.mirror(),
            "read_source_parameter": self.flag.parameter,
        }

    def status(self, flips: int = 5) -> dict[str, Any]:
        """Everything `cutover status` shows, except the verdict (computed by the caller)."""
        repair = (self.reports.latest(RECONCILE_REPAIR) or {}).get("started_at")
        return {
            **self._flag_status(),
            "replication": {
                "lag_seconds": self.positions.lag_seconds(),
                "lag_by_source": self.positions.source_lags(),
                "positions": self.positions.summary(),
                "gaps": self.positions.gaps(),
            },
            "backfill": self.reports.latest(BACKFILL_RUN),
            "reconcile": self.reports.latest(RECONCILE),
            "quarantine_open": self.quarantine.count_open(),
            "failure_queues": [q.as_dict() for q in self.queues.read(repair, datetime.now(UTC))],
            "flips": self.reports.history(FLIP, limit=flips),
            "secrets": [p.to_dict() for p in self.pins.pins()] if self.pins else [],
            "shadow": self._shadow_status(),
        }

    def _shadow_status(self) -> dict[str, Any] | None:
        """The shadow phase's counts per kind of read, and the recorded mismatches (None: not read)."""
        if self.shadow is None:
            return None
        return read_phase(self.reports, self.shadow, SHADOW).as_dict() | {"on_shadow": self.flag.get() == SHADOW}
