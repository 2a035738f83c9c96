"""Numbers as people read them: never `None ms`."""

from __future__ import annotations


def ms(value: float | None) -> str:
    """`12 ms`, or `-` when there is no figure (no record carried a creation time)."""
    return "-" if value is None else f"{value:,.0f} ms"
