"""Numbers as people read them: never `None ms`."""

from __future__ import annotations


def ms(value: float | None) -> str:
    """`12 ms`, or `-` when there is no figure (no record carried a creation time)."""
    return "-" if value is None else f"{value:,.0f} ms"


def count(n: int, noun: str) -> str:
    """`1 record`, `2,000 records`."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def rate(n: int, seconds: float, unit: str = "/s") -> str:
    """` (1,200/s)`, ` (0.4/s)` over a run of a second or more; nothing for a shorter one, whose
    rate says nothing."""
    if seconds < 1.0:
        return ""
    per_second = n / seconds
    return f" ({per_second:,.1f}{unit})" if per_second < 10 else f" ({per_second:,.0f}{unit})"
