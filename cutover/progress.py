"""What long-running work reports while it runs, without knowing who (if anyone) is watching.

Domain code (backfill, reconcile, sync) takes a sink and calls it; the CLI passes rich progress
bars (`cutover_cli.progress`), while tests, the bench and Lambdas pass nothing and get the silent
default. Keeping the protocol here keeps screen output out of the packages that Lambdas ship.
"""

from __future__ import annotations

from typing import Any, Protocol


class ProgressSink(Protocol):
    """Per-table item progress (backfill, reconcile). Called from many worker threads."""

    def add_table(self, label: str, total: int | None) -> None: ...
    def advance(self, label: str, n: int) -> None: ...
    def __enter__(self) -> ProgressSink: ...
    def __exit__(self, *exc: object) -> None: ...


class NullProgress:
    """The silent sink: the default for every library call."""

    def add_table(self, label: str, total: int | None) -> None:
        pass

    def advance(self, label: str, n: int) -> None:
        pass

    def __enter__(self) -> NullProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class StatusDisplay(Protocol):
    """A live status for a polling loop (sync): called once per pass with the running result."""

    def __call__(self, result: Any, tables: Any) -> None: ...
    def __enter__(self) -> StatusDisplay: ...
    def __exit__(self, *exc: object) -> None: ...


class NullStatus:
    def __call__(self, result: Any, tables: Any) -> None:
        pass

    def __enter__(self) -> NullStatus:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def item_count(client: Any, table: str) -> int | None:
    """DescribeTable's approximate ItemCount (None if the table cannot be described).

    DynamoDB refreshes ItemCount about every six hours, so it only feeds an ETA estimate.
    """
    try:
        return int(client.describe_table(TableName=table)["Table"].get("ItemCount", 0)) or None
    except Exception:  # noqa: BLE001 - an estimate only; never fail a run over it
        return None
