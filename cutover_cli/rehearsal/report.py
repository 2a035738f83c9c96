"""What `cutover rehearse` found, and what a migration run on the rehearsed stacks gets.

`Deployment` is the seam's input (the backend and each deployed stack's outputs and physical
ids), `Step` one step of such a run, `Report` everything the command prints (`to_dict` is the
`--json` shape).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cutover.settings import Settings
from cutover_cli.rehearsal.deploy import StackResult
from cutover_cli.rehearsal.grants import Finding


@dataclass(frozen=True)
class Deployment:
    """What `run_migration` gets: the backend, each deployed stack with its outputs and physical
    ids (logical id -> physical id; a function's is its name, a machine's its ARN), and the cloud
    assembly it was deployed from (templates: each function's environment and policy; assets)."""

    settings: Settings  # the stage's settings, endpoint_url set to the rehearsal's backend
    account: str
    region: str
    stacks: tuple[StackResult, ...]
    assembly: Path

    def physical_ids(self, resource_type: str) -> dict[str, str]:
        """logical id -> physical id of every deployed resource of one type, over all stacks."""
        return {
            logical: stack.physical_ids[logical]
            for stack in self.stacks
            for logical, kind in stack.resource_types.items()
            if kind == resource_type
        }


@dataclass(frozen=True)
class Step:
    """One step of a migration run on the deployed system: its verdict and how long it took."""

    name: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass
class Report:
    """Everything `cutover rehearse` prints."""

    service: str
    stage: str
    migration: str
    stacks: list[StackResult] = field(default_factory=list)
    expected_stacks: list[str] = field(default_factory=list)
    unemulated: dict[str, list[str]] = field(default_factory=dict)  # stack -> types moto skipped
    custom: list[tuple[str, str, str]] = field(default_factory=list)  # (logical id, type, verdict)
    grants: list[Finding] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    ran: bool = False  # whether a migration run was wired in at all
    error: str | None = None  # what stopped it before a deploy (synth refused, ...)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        deployed = {s.name for s in self.stacks if s.ok}
        return self.error is None and set(self.expected_stacks) <= deployed and all(s.ok for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "service": self.service,
            "stage": self.stage,
            "migration": self.migration,
            "error": self.error,
            "stacks": [
                {
                    "name": s.name,
                    "status": s.status,
                    "resources": s.resources,
                    "reason": s.reason,
                    "outputs": s.outputs,
                    "not_emulated": self.unemulated.get(s.name, []),
                }
                for s in self.stacks
            ],
            "not_deployed": [n for n in self.expected_stacks if n not in {s.name for s in self.stacks}],
            "custom_resources": [{"logical_id": lid, "type": t, "verdict": v} for lid, t, v in self.custom],
            "iam": [
                {
                    "stack": f.stack,
                    "function": f.function,
                    "handler": f.handler,
                    "statements": f.statements,
                    "unresolved": list(f.unresolved),
                    "conditions_not_evaluated": f.conditional,
                }
                for f in self.grants
            ],
            "run": {
                "built": self.ran,
                "steps": [{"name": s.name, "ok": s.ok, "seconds": s.seconds, "detail": s.detail} for s in self.steps],
            },
            "seconds": self.seconds,
        }
