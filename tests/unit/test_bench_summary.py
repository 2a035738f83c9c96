"""The benchmark figures in README.md and bench/README.md are the committed bench/results.json, rendered."""

from __future__ import annotations

import json

import pytest

from bench.summary import BLOCK, DOCS, RESULTS, refreshed, render


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name if p.parent.name != "bench" else "bench/README.md")
def test_readme_figures_are_the_committed_results(doc):
    # Given the committed results of the last full run
    table = render(json.loads(RESULTS.read_text()))
    # Then the document's figures block is exactly their rendering (run `python -m bench.summary --write`)
    block = BLOCK.search(doc.read_text())
    assert block is not None, f"{doc} has no bench figures block"
    assert block.group(0) == table, f"{doc} figures differ from bench/results.json: python -m bench.summary --write"


def test_the_rendering_shows_every_targeted_figure_with_its_verdict():
    # Given two figures, one with a target and one reference row
    results = {
        "started_at": "t",
        "seconds": 60,
        "machine": {"cpus": 2},
        "figures": [
            {
                "bench": "reconcile",
                "engine": "dynalite",
                "name": "reads per item @ 10",
                "target": "<= 2",
                "measured": 2.0,
                "unit": "reads",
                "baseline": 4.0,
                "baseline_name": "page check",
                "ratio": 0.5,
                "status": "PASS",
            },
            {"bench": "x", "name": "reference", "target": "", "measured": 1, "unit": "", "status": "info"},
        ],
    }
    # When rendered and put into a document
    table = render(results)
    doc = refreshed("before\n<!-- bench:begin -->\nold\n<!-- bench:end -->\nafter", table)
    # Then the targeted figure is there with its baseline and verdict, the reference row is not
    assert "| reconcile | dynalite | reads per item @ 10 | <= 2 | 2 reads | 4 (page check) | 0.50x | **PASS** |" in doc
    assert "reference" not in table and doc.startswith("before\n") and doc.endswith("\nafter")
