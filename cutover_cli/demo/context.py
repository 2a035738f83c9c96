"""The state shared by demo steps: where the backend is, what was seeded and the summary rows."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cutover.clients import Clients
from cutover.settings import Settings


@dataclass(frozen=True)
class DemoOptions:
    users: int = 2_000  # the seed demo's data
    orders: int = 3_000
    items: int = 200  # any other definition's: generated legacy items per source role
    live_seconds: float = 10.0  # how long the legacy writer runs while sync follows it
    writes_per_second: float = 40.0
    seed: int = 7

    @classmethod
    def quick(cls) -> DemoOptions:
        """A small run for tests and a first look (a few seconds)."""
        return cls(users=100, orders=150, items=100, live_seconds=2.5, writes_per_second=30.0)


@dataclass
class DemoContext:
    """Passed to every step. A step reads what earlier steps left here and appends summary rows."""

    settings: Settings
    options: DemoOptions = field(default_factory=DemoOptions)
    say: Callable[[str], None] = print
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (step, what, value)
    data: dict[str, Any] = field(default_factory=dict)  # free-form hand-over between steps
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    _clients: Clients | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.options.seed)

    @property
    def clients(self) -> Clients:
        if self._clients is None or self._clients.settings != self.settings:
            self._clients = Clients(self.settings)
        return self._clients

    def row(self, step: str, what: str, value: object) -> None:
        text = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
        self.rows.append((step, what, text))

    def close(self) -> None:
        while self.cleanups:
            self.cleanups.pop()()
