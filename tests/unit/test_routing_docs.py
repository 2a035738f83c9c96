"""docs/API.md's examples run as printed, and do what the text says."""

from __future__ import annotations

import re
from pathlib import Path

API_MD = Path(__file__).resolve().parents[2] / "docs" / "API.md"


def _python_blocks() -> list[str]:
    section = API_MD.read_text().split("## Routing reads in your own application", 1)[1]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_routing_example_runs_in_every_mode():
    # Given the example, run as printed
    example, lines, _marks = _python_blocks()
    ns: dict = {}
    exec(compile(example, str(API_MD), "exec"), ns)
    telemetry = ns["telemetry"]
    # Then in shadow legacy answers, and v3's bookkeeping attribute is no mismatch
    assert ns["get_customer"]("c1") == ({"customerId": "c1", "plan": "pro"}, "legacy")
    assert telemetry.counts["ShadowMismatch"] == 0
    # And at v3 the target answers, a miss falls back, and an unknown value is legacy, loudly
    ns["values"].value = "v3"
    assert ns["get_customer"]("c1")[1] == "v3"
    assert ns["get_customer"]("c2") == (None, "legacy") and telemetry.counts["V3Fallback"] == 1
    ns["values"].value = "v4"
    assert ns["get_customer"]("c1")[1] == "legacy" and telemetry.counts["FlagInvalid"] == 1


def test_the_list_example_compares_by_the_given_identity():
    _, lines, _ = _python_blocks()
    ns: dict = {}
    exec(compile(lines, str(API_MD), "exec"), ns)
    verdict = ns["lines"]([{"sku": "a", "qty": 1}, {"sku": "b", "qty": 0}], [{"sku": "a", "qty": 2}])
    assert (list(verdict.mismatched), list(verdict.uncomparable)) == (["a:qty"], ["b:<missing in v3>"])
