"""The version scheme (replicator.contract.versioning): string order == stream order, across streams too."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replicator.contract.versioning import BACKFILL_VERSION, VersionError, bump, stream_label, stream_version

relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
labels = st.datetimes(min_value=datetime(2012, 1, 1), max_value=datetime(2099, 12, 31))
sequences = st.integers(min_value=10**20, max_value=10**40 - 1).map(str)  # 21-40 digits


def arn(label: datetime) -> str:
    return f"arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/{label.isoformat(timespec='milliseconds')}"


def parsed_label(label: datetime) -> datetime:
    return label.replace(microsecond=label.microsecond // 1000 * 1000)


@relaxed
@given(labels, sequences, labels, sequences)
def test_version_order_is_label_then_sequence_order(label_a, seq_a, label_b, seq_b):
    # Given two stream records (possibly on different streams), When versioned
    a, b = stream_version(arn(label_a), seq_a), stream_version(arn(label_b), seq_b)
    # Then comparing the strings agrees with comparing (stream creation time, int(sequence))
    key_a, key_b = (parsed_label(label_a), int(seq_a)), (parsed_label(label_b), int(seq_b))
    assert (a < b) == (key_a < key_b) and (a == b) == (key_a == key_b)


@relaxed
@given(labels, sequences, st.lists(st.tuples(labels, sequences), min_size=1, max_size=5))
def test_bump_sits_between_a_version_and_every_later_one(label, seq, later):
    v = stream_version(arn(label), seq)
    bumped, twice = bump(v), bump(bump(v))
    assert v < bumped < twice
    for other_label, other_seq in later:
        w = stream_version(arn(other_label), other_seq)
        if w > v:
            assert bumped < w and twice < w
    assert BACKFILL_VERSION < bump(None) < v


def test_restarted_stream_with_lower_sequence_still_wins():
    # Given moto-style restart: a newer stream whose numbers start lower
    old = stream_version(arn(datetime(2026, 1, 1)), "9" * 30)  # fixed-date: labels in, versions out (pure)
    new = stream_version(arn(datetime(2026, 1, 2)), "1" * 21)  # fixed-date: labels in, versions out (pure)
    assert old < new


def test_sequences_compare_without_losing_precision():
    base = 10**39
    assert stream_version(arn(datetime(2026, 1, 1)), str(base)) < stream_version(  # fixed-date: pure
        arn(datetime(2026, 1, 1)), str(base + 1)
    )


@pytest.mark.parametrize(  # fixed-date: malformed inputs to a pure function
    "bad_arn, bad_seq",
    [("arn:aws:dynamodb:r:1:table/t", "1"), (arn(datetime(2026, 1, 1)), "1e5"), (arn(datetime(2026, 1, 1)), "")],
)
def test_malformed_inputs_raise_version_error(bad_arn, bad_seq):
    with pytest.raises(VersionError):
        stream_version(bad_arn, bad_seq)


def test_label_is_fixed_width():
    # fixed-date: a label in, its fixed-width form out (pure)
    assert stream_label(arn(datetime(2026, 1, 2, 3, 4, 5) + timedelta(milliseconds=6))) == "20260102T030405006000"
