"""`cutover dlq list` for a person: one row per discarded batch at 80 columns, nothing cut.

The row holds what identifies the batch (source, shard, size, first arrival); its sequence range,
two 20-odd digit numbers, goes on the lines under it. `--json` adds the condition and stream ARN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

COLUMNS = ("source", "shard_id", "batch_size", "first_arrival")
GAP = "  "


def render(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    cells = [{c: str(r.get(c, "")) for c in COLUMNS} for r in rows]
    widths = {c: max([len(c), *(len(r[c]) for r in cells)]) for c in COLUMNS}

    def line(row: Mapping[str, str]) -> str:
        return GAP.join(
            row[c].rjust(widths[c]) if c == "batch_size" else row[c].ljust(widths[c]) for c in COLUMNS
        ).rstrip()

    indent = " " * (widths["source"] + len(GAP))
    out = [
        f"{len(rows)} discarded batch(es)",
        line({c: c for c in COLUMNS}),
        line({c: "-" * widths[c] for c in COLUMNS}),
    ]
    for row, raw in zip(cells, rows, strict=True):
        out += [
            line(row),
            f"{indent}start_sequence {raw['start_sequence']}",
            f"{indent}end_sequence   {raw['end_sequence']}",
        ]
    return out
