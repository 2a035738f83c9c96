"""What the backfill and reconcile machines do with their input, played on moto's ASL interpreter
(tests/infrastructure/asl.py) from the synthesized definitions, up to the first Lambda.

Issue 20, major 5: runbooks/deploy.md's start-execution input had no `rate`, the first JSONPath
reading `$.rate` failed the run with States.Runtime. Every field but the backfill's `table` now
has a default and every field is checked before any Lambda runs; the runbook's commands are run
here exactly as printed. AWS: intrinsic States.JsonMerge keeps the second object's value for a
key in both (https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html), and
States.ArrayRange returns at most 1000 items (the backfill's segment limit).
"""

from __future__ import annotations

import json
import re
import shlex

import pytest

from backfill.runs import DEFAULT_SEGMENTS, MAX_REMOTE_SEGMENTS
from backfill.segment_lambda import parse_event as parse_backfill_item
from reconciler.partials import DEFAULT_SEGMENTS as RECONCILE_SEGMENTS
from reconciler.partials import max_segments
from tests.infrastructure.asl import END, cut, play
from tests.infrastructure.conftest import ROOT
from tests.infrastructure.test_replication_stack import _definition

RUNBOOK = ROOT / "runbooks" / "deploy.md"
VARIANTS = ("staging@env", "dev+catalog")  # the runbook's own way, and the other migration


def runbook_inputs(machine: str) -> list[str]:
    """The `--input` of every `aws stepfunctions start-execution` the runbook prints for `machine`."""
    found = []
    for line in RUNBOOK.read_text().splitlines():
        if line.startswith("aws stepfunctions start-execution") and f"cutover-{machine} " in line:
            words = shlex.split(line)
            found.append(words[words.index("--input") + 1])
    return found


def backfill_to_items(definition: dict) -> dict:
    """Up to the map: the map's items as its ItemSelector builds them (what each segment's first
    invocation gets), via an inline map of Pass states in place of the distributed one."""
    segments = definition["States"]["Segments"]
    inline = {
        "Type": "Map",
        "ItemsPath": segments["ItemsPath"],
        "ItemSelector": segments["ItemSelector"],
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Item", "States": {"Item": END}},
        "ResultPath": "$.items",
        "End": True,
    }
    return cut(definition, {"Segments": inline})


def reconcile_to_begin(definition: dict) -> dict:
    """Up to Begin: its Lambda's event, as a Pass with the task's payload in its place."""
    begin = definition["States"]["Begin"]
    return cut(definition, {"Begin": {"Type": "Pass", "Parameters": begin["Parameters"], "End": True}})


@pytest.fixture
def seed_synth_runbook(synth_stage):
    """The stage the runbook's commands name (staging, synthesized with its account and region)."""
    return synth_stage("staging@env")


@pytest.fixture(params=VARIANTS)
def machines(request, synth_stage):
    synth = synth_stage(request.param)
    return synth, backfill_to_items(_definition(synth, "backfill")), reconcile_to_begin(_definition(synth, "reconcile"))


def test_the_runbooks_backfill_input_as_printed_plans_every_segment(seed_synth_runbook):
    # Given the backfill execution inputs printed in runbooks/deploy.md (no `rate`), one per table
    texts = runbook_inputs("backfill")
    given = [json.loads(text) for text in texts]
    assert sorted(g["table"] for g in given) == sorted(seed_synth_runbook.roles)
    assert len({g["run_id"] for g in given}) == 1  # one run: the backfill lease admits one at a time
    # When they start the synthesized backfill machine
    runs = play(backfill_to_items(_definition(seed_synth_runbook, "backfill")), texts)
    # Then each reaches the map and each segment gets the runbook's fields, rate defaulting to no limit
    for run, fields in zip(runs, given, strict=True):
        assert run.status == "SUCCEEDED", run
        assert run.output["items"] == [{**fields, "rate": None, "segment": k} for k in range(fields["segments"])]
        assert parse_backfill_item(run.output["items"][0]).rate is None  # and the segment Lambda accepts it


def test_the_runbooks_reconcile_input_as_printed_reaches_begin(seed_synth_runbook):
    # Given the reconcile execution input printed in runbooks/deploy.md (no `sample`, no `repair`)
    (text,) = runbook_inputs("reconcile")
    # When it starts the synthesized reconcile machine
    (run,) = play(reconcile_to_begin(_definition(seed_synth_runbook, "reconcile")), [text])
    # Then Begin gets the runbook's fields and the defaults of the others
    assert run.status == "SUCCEEDED", run
    assert run.output == {"step": "begin", **json.loads(text), "sample": None, "repair": False}


def test_every_field_but_the_table_defaults(machines):
    synth, backfill, reconcile = machines
    role = synth.roles[0]
    # Given inputs naming only what has no default
    (filled,) = play(backfill, [json.dumps({"table": role})])
    (begun,) = play(reconcile, ["{}"])
    # Then run_id is the execution's name and the rest is what the CLI leaves out means
    assert filled.status == "SUCCEEDED", filled
    assert len(filled.output["items"]) == DEFAULT_SEGMENTS
    assert filled.output["items"][0] == {
        "table": role,
        "segments": DEFAULT_SEGMENTS,
        "run_id": "run-0",
        "rate": None,
        "segment": 0,
    }
    defaults = {"segments": RECONCILE_SEGMENTS, "sample": None, "repair": False}
    assert begun.output == {"step": "begin", "run_id": "run-0", **defaults}


def test_a_given_field_wins_over_its_default_even_null(machines):
    synth, backfill, reconcile = machines
    role = synth.roles[-1]
    given = {"table": role, "segments": 3, "run_id": "r1", "rate": 2.5}
    (filled,) = play(backfill, [json.dumps(given)])
    (begun,) = play(reconcile, [json.dumps({"run_id": "r2", "segments": 2, "sample": 0.25, "repair": True})])
    (nulled,) = play(backfill, [json.dumps({**given, "rate": None})])
    assert filled.output["items"] == [{**given, "segment": k} for k in range(3)]
    assert begun.output == {"step": "begin", "run_id": "r2", "segments": 2, "sample": 0.25, "repair": True}
    assert nulled.output["items"][0]["rate"] is None


def test_the_most_segments_plan_and_one_more_is_refused(machines):
    synth, backfill, reconcile = machines
    role = synth.roles[0]
    most = max_segments(synth.roles)
    # (up to the map's input: a 1000-item inline map on moto's interpreter is slow under load; the
    # items the map builds from segment_ids are asserted above with fewer segments)
    planned = cut(backfill, {"Segments": END})
    runs = play(planned, [json.dumps({"table": role, "segments": n}) for n in (MAX_REMOTE_SEGMENTS, 1001)])
    begun = play(reconcile, [json.dumps({"segments": n}) for n in (most, most + 1)])
    assert runs[0].status == "SUCCEEDED", runs[0]
    assert runs[0].output["segment_ids"] == list(range(MAX_REMOTE_SEGMENTS))
    assert runs[1].error == "InvalidSegments" and "1 to 1000" in runs[1].cause
    assert begun[0].status == "SUCCEEDED" and begun[1].error == "InvalidSegments"


BAD_BACKFILL = [
    ({"table": "nope"}, "UnknownTable"),
    ({"table": None}, "UnknownTable"),
    ({"segments": 0}, "InvalidSegments"),
    ({"segments": "16"}, "InvalidSegments"),
    ({"segments": None}, "InvalidSegments"),
    ({"rate": 0}, "InvalidRate"),
    ({"rate": "fast"}, "InvalidRate"),
]
BAD_RECONCILE = [
    ({"segments": 0}, "InvalidSegments"),
    ({"sample": 0}, "InvalidSample"),
    ({"sample": 1.5}, "InvalidSample"),
    ({"sample": "5%"}, "InvalidSample"),
    ({"repair": "yes"}, "InvalidRepair"),
    ({"repair": None}, "InvalidRepair"),
]


def test_a_bad_field_fails_the_run_before_any_lambda_naming_the_field(machines):
    synth, backfill, reconcile = machines
    table = {"table": synth.roles[0]}
    cases = [*BAD_BACKFILL, ({"no": "table"}, "UnknownTable")]
    backfills = play(backfill, [*(json.dumps({**table, **bad}) for bad, _ in BAD_BACKFILL), '{"segments": 4}'])
    reconciles = play(reconcile, [json.dumps(bad) for bad, _ in BAD_RECONCILE])
    for (bad, error), run in [*zip(cases, backfills, strict=True), *zip(BAD_RECONCILE, reconciles, strict=True)]:
        assert (run.status, run.error) == ("FAILED", error), bad
        field = re.sub(r"^(Unknown|Invalid)", "", error).lower()
        assert f"input.{field}" in run.cause, (bad, run.cause)
