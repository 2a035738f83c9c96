"""`cutover quarantine list` for a person: the on-call's triage screen, whole at 80 columns.

One row per entry (source, key, reason, seen, and status with --all), then the entry's detail on
its own lines under the key, wrapped at spaces (a word longer than a line is split). Codes, keys
and times are never cut: a key too long for its column gets lines of its own and the rest of the
row follows on the next line. The same fields, and the table and origin, are in `--json`.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Mapping, Sequence

COLUMNS = ("source", "key", "reason", "seen")
GAP = "  "
MIN_WIDTH = 40


def terminal_width() -> int:
    """The terminal's width (COLUMNS when set), 80 when there is none (a pipe, a file)."""
    return max(MIN_WIDTH, shutil.get_terminal_size((80, 24)).columns)


def render(rows: Sequence[Mapping[str, str]], with_status: bool, width: int = 80) -> list[str]:
    """The lines to print for `rows`, none longer than `width`."""
    columns = [*COLUMNS, "status"] if with_status else list(COLUMNS)
    widths = {c: max([len(c), *(len(r[c]) for r in rows)]) for c in columns}
    fixed = sum(widths[c] + len(GAP) for c in columns if c != "key")
    widths["key"] = max(len("key"), min(widths["key"], width - fixed))
    indent = " " * (widths["source"] + len(GAP))

    def row(cells: Mapping[str, str]) -> str:
        return GAP.join(cells[c].ljust(widths[c]) for c in columns).rstrip()

    out = [f"{len(rows)} quarantined item(s)", row({c: c for c in columns}), row({c: "-" * widths[c] for c in columns})]
    for r in rows:
        if len(r["key"]) <= widths["key"]:
            out.append(row(r))
        else:  # the key whole, on lines of its own; the rest of the row under it
            room = max(1, width - len(indent))
            chunks = [r["key"][i : i + room] for i in range(0, len(r["key"]), room)]
            out.append(f"{r['source'].ljust(widths['source'])}{GAP}{chunks[0]}")
            out += [indent + chunk for chunk in chunks[1:]]
            out.append(row({**r, "source": "", "key": ""}))
        detail = textwrap.wrap(r["detail"] or "(no detail)", width - len(indent), break_on_hyphens=False)
        out += [indent + part for part in detail]
    return out
