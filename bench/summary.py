"""`python -m bench.summary [--write] [--results PATH]`: the figures table in README.md and bench/README.md.

The tables between `<!-- bench:begin -->` and `<!-- bench:end -->` are rendered from
bench/results.json, never typed by hand: `--write` rewrites them, and tests/unit/test_bench_summary.py
fails when a README no longer matches the committed results.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
DOCS = (ROOT / "README.md", ROOT / "bench" / "README.md")
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
SHOWN_REFERENCES = ("read units per million",)  # reference rows worth a README line
BLOCK = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"
    return f"{text} {unit}".strip()


def render(results: dict) -> str:
    """A markdown table of every figure with a target (PASS/MISS/...) and the read-unit reference rows, in run order."""
    rows = [
        "| bench | engine | figure | target | measured | baseline (same run) | ratio | result |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in results.get("figures", []):
        if not f.get("target") and not f["name"].startswith(SHOWN_REFERENCES):
            continue
        base = f"{_fmt(f['baseline'])} ({f['baseline_name']})" if f.get("baseline") is not None else "-"
        ratio = f"{f['ratio']:.2f}x" if f.get("ratio") is not None else "-"
        cells = (
            f["bench"],
            f.get("engine") or "-",
            f["name"],
            f["target"],
            _fmt(f["measured"], f["unit"]),
            base,
            ratio,
            f"**{f['status']}**",
        )
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    run = "quick run" if results.get("quick") else "full run"
    head = (
        f"From `bench/results.json` ({run} started {results.get('started_at')}, "
        f"{results.get('seconds', 0) / 60:.0f} min, {results.get('machine', {}).get('cpus')} cores; "
        "`python -m bench.summary --write` renders this table):"
    )
    return "\n".join([BEGIN, head, "", *rows, END])


def refreshed(text: str, table: str) -> str:
    if not BLOCK.search(text):
        raise ValueError(f"no {BEGIN} ... {END} block to fill")
    return BLOCK.sub(lambda _: table, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.summary", description=__doc__)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--write", action="store_true", help="rewrite the tables in README.md and bench/README.md")
    args = parser.parse_args(argv)
    table = render(json.loads(args.results.read_text()))
    if not args.write:
        print(table)
        return 0
    for doc in DOCS:
        doc.write_text(refreshed(doc.read_text(), table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
