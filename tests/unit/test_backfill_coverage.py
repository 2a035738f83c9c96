"""The gate's backfill evidence per source (controlplane.backfill_coverage): the latest run of each
source must have finished it, and the evidence's time is the last of those completions."""

from __future__ import annotations

from controlplane.backfill_coverage import coverage

ROLES = ("users", "orders")


def _run(run_id: str, at: str, segments: int = 2, **done: int) -> dict:
    tables = {role: {"segments_done": n} for role, n in done.items()}
    return {"run_id": run_id, "finished_at": at, "segments": segments, "tables": tables}


def test_each_source_is_judged_by_its_own_latest_run():
    # Given (newest first) a users-only run, then an earlier run of both
    history = [_run("b", "2001-01-02T00:00:00Z", users=2), _run("a", "2001-01-01T00:00:00Z", users=2, orders=2)]
    # Then both are covered, and the evidence's time is the later completion
    got = coverage(history, ROLES)
    assert got == {
        "complete": True,
        "finished_at": "2001-01-02T00:00:00Z",
        "uncovered": [],
        "runs": {"users": "b", "orders": "a"},
    }


def test_a_source_no_run_covered_or_whose_latest_run_stopped_is_uncovered():
    only_users = [_run("a", "2001-01-01T00:00:00Z", users=2)]
    assert coverage(only_users, ROLES)["uncovered"] == ["orders"]
    # A later run of orders that stopped at 1 of 2 segments uncovers it, although an earlier one finished
    stopped = [_run("b", "2001-01-02T00:00:00Z", orders=1), _run("a", "2001-01-01T00:00:00Z", users=2, orders=2)]
    got = coverage(stopped, ROLES)
    assert got["uncovered"] == ["orders"] and got["complete"] is False and got["finished_at"] is None


def test_no_run_at_all_is_no_evidence():
    assert coverage([], ROLES) is None
