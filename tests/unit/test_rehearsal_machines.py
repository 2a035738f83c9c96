"""The rehearsal's generated physical names (cutover_cli/rehearsal/machines.py): IAM role and Lambda
function names are at most 64 characters
(https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html,
https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html), and two resources of one
stack must not be cut to the same name."""

from __future__ import annotations

from cutover_cli.rehearsal.machines import _physical


def test_a_short_name_is_the_stack_and_the_logical_id():
    assert _physical("svc-dev-replication", "BackfillSegmentFunction98F7D7B1") == (
        "svc-dev-replication-BackfillSegmentFunction98F7D7B1"
    )


def test_long_names_are_cut_to_64_characters_and_stay_distinct():
    stack = "a-rather-long-service-name-prod-replication"
    one, two = (_physical(stack, f"ReconcileSegmentFunctionServiceRole{n}") for n in ("D06919D4", "0CD470E7"))
    assert len(one) == len(two) == 64 and one != two and one.startswith(stack)
