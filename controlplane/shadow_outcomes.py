"""The outcomes of one shadow read: the vocabulary the API records and the gate counts.

No imports: `cutover flip --help` loads the gate's rules, and must not load an AWS SDK.
"""

from __future__ import annotations

MATCH, MISMATCH, EXPECTED, UNCOMPARABLE, SKIPPED, ERROR = (
    "match",
    "mismatch",
    "expected",
    "uncomparable",
    "skipped",
    "error",
)
OUTCOMES = (MATCH, MISMATCH, EXPECTED, UNCOMPARABLE, SKIPPED, ERROR)
COMPARED = (MATCH, MISMATCH, EXPECTED)  # both sides read and compared on a record the transform accepts
KEYS = "keys"  # in a reading: distinct keys compared
