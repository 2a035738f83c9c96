"""How many segments a remote reconcile may take: Begin returns (sources + 1) x segments map items
in the state's payload, which Step Functions caps at 256 KiB, so the limit follows the migration
(https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html, "Maximum input or output
size for a task, state, or execution": 256 KiB)."""

from __future__ import annotations

import json

import pytest

from cutover.errors import ConfigError
from reconciler.partials import ITEMS_BUDGET_BYTES, MAX_SEGMENTS, max_segments, part_names
from reconciler.segment_lambda import parse_event

STATE_PAYLOAD_BYTES = 256 * 1024


def items(roles: tuple[str, ...], segments: int) -> bytes:
    """Begin's items as the Lambda returns them (json.dumps of the list)."""
    return json.dumps([{"part": p, "segment": s} for p in part_names(roles) for s in range(segments)]).encode()


@pytest.mark.parametrize(
    "roles",
    [("users", "orders"), ("products", "reviews"), tuple(f"source_table_{n:02d}" for n in range(12)), ("a" * 200,)],
)
def test_the_most_segments_fit_the_state_payload_and_the_limit_shrinks_with_the_sources(roles):
    most = max_segments(roles)
    # Then the items of the most segments fit the budget, well inside the payload cap
    assert len(items(roles, most)) <= ITEMS_BUDGET_BYTES < STATE_PAYLOAD_BYTES
    # And either the absolute cap binds, or the limit wastes little (it counts every segment number
    # as wide as the widest, so it errs low, never high)
    assert most == MAX_SEGMENTS or len(items(roles, most)) > 0.85 * ITEMS_BUDGET_BYTES


def test_two_sources_keep_a_thousand_and_twelve_get_fewer():
    assert max_segments(("users", "orders")) == 1000
    assert max_segments(tuple(f"source_table_{n:02d}" for n in range(12))) < 400


def test_a_segment_event_past_the_migrations_limit_is_refused_naming_it():
    roles = tuple(f"source_table_{n:02d}" for n in range(12))
    most = max_segments(roles)
    event = {"run_id": "r", "part": roles[0], "segment": 0, "sample": None}
    assert parse_event({**event, "segments": most}, roles).segments == most
    with pytest.raises(ConfigError, match=f"segments <= {most}"):
        parse_event({**event, "segments": most + 1}, roles)
