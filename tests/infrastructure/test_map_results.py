"""The distributed maps' own result stays small whatever the segment count (issue 20, major 4).

A distributed Map without a ResultWriter gathers every child execution's output into its result,
even with ResultPath null, and fails with States.DataLimitExceeded past 256 KiB after all the work
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html,
https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html). So each child ends
with a constant output (infra/constructs/segments.py, CHILD_OUTPUT): played here on moto's ASL
interpreter from the synthesized item processors, and sized for the most items a run can have.
"""

from __future__ import annotations

import json

import pytest

from backfill.runs import MAX_REMOTE_SEGMENTS
from infra.constructs.segments import CHILD_OUTPUT
from reconciler.partials import max_segments, part_names
from tests.infrastructure.asl import play
from tests.infrastructure.test_replication_stack import _definition

STATE_PAYLOAD_BYTES = 256 * 1024
MACHINES = {"backfill": ("Segments", "Run segment"), "reconcile": ("Parts", "Run part")}


def most_items(synth, machine: str) -> int:
    roles = synth.roles
    return MAX_REMOTE_SEGMENTS if machine == "backfill" else len(part_names(roles)) * max_segments(roles)


@pytest.mark.parametrize("machine", sorted(MACHINES))
def test_a_finished_child_returns_the_constant_not_its_state(synth_stage, machine):
    synth = synth_stage("staging@env")
    map_state, task = MACHINES[machine]
    processor = _definition(synth, machine)["States"][map_state]["ItemProcessor"]
    # Given the child's loop with its Lambda answering done after a page of big counts
    answer = {"done": True, "counts": {f"count_{n}": n for n in range(500)}, "cursor": "x" * 2000}
    states = {
        **processor["States"],
        task: {"Type": "Pass", "Result": answer, "ResultPath": "$.result", "Next": "Segment done?"},
    }
    item = {"table": synth.roles[0], "part": synth.roles[0], "segment": 3, "segments": 8, "run_id": "r", "rate": None}
    # When the child runs
    (run,) = play({"StartAt": processor["StartAt"], "States": states}, [json.dumps(item)])
    # Then its output, which the Map gathers, is the constant
    assert run.status == "SUCCEEDED", run
    assert run.output == CHILD_OUTPUT


@pytest.mark.parametrize("machine", sorted(MACHINES))
def test_the_most_items_a_run_can_have_gather_well_under_the_payload_cap(synth, machine):
    gathered = json.dumps([CHILD_OUTPUT] * most_items(synth, machine))
    assert len(gathered.encode()) < STATE_PAYLOAD_BYTES / 4
