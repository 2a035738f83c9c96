"""`cutover reconcile` for a person: the verdict, the counts, and the first differences at 80 columns.

A check prints its verdict first. A repair says what it found, what it repaired, then the verdict
after repair (CLEAN when nothing remains). A `different` item shows each differing attribute
(bookkeeping `_` attributes never differ) with the expected (transform of legacy) and the actual
(v3) value, each cut to fit 80 columns; the report file holds them whole.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.report import Difference, ReconcileReport

WIDTH = 80
INDENT = "      "
ABSENT = "(absent)"


def value_text(value: Any) -> str:
    """A value as JSON-like text (strings quoted, numbers exact), `(absent)` for a missing attribute."""
    return ABSENT if value is None else _text(value)


def _text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (set, frozenset)):
        return "set(" + ", ".join(sorted(_text(v) for v in value)) + ")"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    raw = getattr(value, "value", value)  # boto3's Binary wraps bytes
    if isinstance(raw, (bytes, bytearray)):
        return f"<{len(raw)} bytes>"
    return str(value)


def cut(text: str, room: int) -> str:
    return text if len(text) <= room else text[: max(0, room - 1)] + "…"


def attribute_line(name: str, change: Mapping[str, Any], width: int = WIDTH) -> str:
    """`      email: expected "a@b.co", actual "A@B.co"`, each value cut so the line fits `width`."""
    head = f"{INDENT}{name}: expected "
    mid = ", actual "
    expected, actual = value_text(change.get("expected")), value_text(change.get("actual"))
    room = width - len(head) - len(mid)
    if len(expected) + len(actual) > room:
        half = max(8, room // 2)
        if len(expected) <= half:
            actual = cut(actual, room - len(expected))
        elif len(actual) <= half:
            expected = cut(expected, room - len(actual))
        else:
            expected, actual = cut(expected, half), cut(actual, room - half)
    return cut(f"{head}{expected}{mid}{actual}", width)


def difference_lines(diff: Difference, repair: bool, width: int = WIDTH) -> list[str]:
    where = f"{diff.source}#{diff.source_key}" if diff.source else "(no source)"
    key = f" -> v3 {diff.v3_key_text}" if diff.v3_key else ""  # any key shape: hash only, binary parts
    state = ""
    if repair:
        state = " [remains]" if diff.remaining else " [repaired]"
    head = f"  {diff.kind:<10} {where}{key}{state}"
    if diff.kind == "different" and diff.attributes:
        return [head, *(attribute_line(name, change, width) for name, change in sorted(diff.attributes.items()))]
    return [head, cut(f"{INDENT}{diff.detail}", width)] if diff.detail else [head]


def counts_line(c: Mapping[str, int]) -> str:
    return (
        f"missing {c['missing']}  extra {c['extra']}  different {c['different']}  "
        f"unquarantined bad {c['unquarantined']}  quarantined {c['quarantined']}"
    )


def render(report: ReconcileReport) -> list[str]:
    c = report.counts
    sample = f" (sample {report.sample:g})" if report.sample else ""
    compared = f"  compared {c['compared']:,} legacy items, checked {c['v3_checked']:,} live v3 items"
    if report.repair:
        out = [
            f"reconcile --repair{sample}: found {report.differences:,} difference(s) in {report.seconds:.1f}s",
            compared,
            f"  found: {counts_line(c)}",
            f"  repaired {c['repaired']}  remaining {c['remaining']}",
            f"reconcile after repair: {'CLEAN' if report.clean else 'DIFFERENCES REMAIN'}",
        ]
    else:
        out = [
            f"reconcile{sample}: {'CLEAN' if report.clean else 'DIFFERENCES FOUND'} in {report.seconds:.1f}s",
            compared,
            f"  {counts_line(c)}",
        ]
    if c["quarantine_resolved"]:
        out.append(f"  quarantine entries resolved (source fixed or deleted): {c['quarantine_resolved']}")
    if report.shown:
        out.append("  first differences:" if report.differences > len(report.shown) else "  differences:")
    for diff in report.shown:
        out += difference_lines(diff, report.repair)
    if report.differences > len(report.shown):
        out.append(f"  ... {report.differences - len(report.shown):,} more in the report")
    if report.report_path:
        out.append(f"  full report: {report.report_path}")
    return out
