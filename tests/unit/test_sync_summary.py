"""Sync's summary adds up, labels quarantine tombstones apart from deletes, and never says `None ms`."""

from __future__ import annotations

from cutover_cli.commands.sync import summary
from replicator.apply import ApplyResult
from replicator.poller.sync_stats import SyncResult
from replicator.record_apply import RecordOutcome, RecordResult


def test_record_counts_add_up_and_tombstones_are_labelled_by_cause():
    # Given records that changed v3 (one a move: write + tombstone), one already current, one delete,
    # one change that turned a live item bad (quarantined, its live v3 copy tombstoned), and one item
    # bad from its first write (its key tombstoned over nothing: a guard, not "turned bad")
    result = SyncResult()
    result.add_done(
        [
            RecordResult(RecordOutcome.APPLIED, ApplyResult(written=1)),
            RecordResult(RecordOutcome.APPLIED, ApplyResult(written=1, tombstoned=1)),
            RecordResult(RecordOutcome.APPLIED, ApplyResult(tombstoned=1)),
            RecordResult(RecordOutcome.SKIPPED, ApplyResult(skipped=1)),
            RecordResult(RecordOutcome.QUARANTINED, ApplyResult(tombstoned=1, tombstoned_live=1, quarantined=1)),
            RecordResult(RecordOutcome.QUARANTINED, ApplyResult(tombstoned=1, quarantined=1)),
        ]
    )
    # Then the records add up and each tombstone is counted by its cause
    assert result.applied == result.changed + result.skipped + result.quarantined == 6
    assert (result.written, result.tombstoned, result.tombstoned_bad, result.tombstoned_guard) == (2, 2, 1, 1)
    text = summary(result)
    assert "6 records" in text and "3 changed v3, 1 already current, 2 quarantined" in text
    assert "2 tombstoned (source deletes and moves), 1 tombstoned (the item turned bad)" in text
    # And with no creation times there is no lag figure, written as "-"
    assert "None" not in text and "lag p50 -, p99 -, max -" in text
