"""Every metric cutover emits, named once: the code that emits it and the alarms that watch it
(`infra/constructs/monitoring.py`) import these, so a renamed metric cannot leave an alarm
watching nothing. Namespace `cutover`, dimension `service`.
"""

from __future__ import annotations

NAMESPACE = "cutover"

# the replicator, one per record outcome (replicator/handler.py)
RECORDS_APPLIED = "RecordsApplied"
RECORDS_SKIPPED = "RecordsSkipped"
RECORDS_QUARANTINED = "RecordsQuarantined"
RECORDS_FAILED = "RecordsFailed"
REPLICATOR_OUTCOMES = (RECORDS_APPLIED, RECORDS_SKIPPED, RECORDS_QUARANTINED, RECORDS_FAILED)
TTL_DELETES = "TtlDeletes"  # deletes DynamoDB's TTL made (tombstoned like any other)
REPLICATION_LAG_MS = "ReplicationLagMs"

# the read path (app_handlers/telemetry.py)
SHADOW_MISMATCH = "ShadowMismatch"
SHADOW_ERROR = "ShadowV3Error"
SHADOW_UNCOMPARABLE = "ShadowUncomparable"
SHADOW_SKIPPED = "ShadowSkipped"  # every shadow slot busy (v3 slow or hanging): not compared
SHADOW_EMAIL_IMPROVEMENT = "ShadowEmailImprovement"  # v3 finds a normalised e-mail legacy's index misses
SHADOW_RECORD_FAILED = "ShadowRecordFailed"  # shadow evidence could not be recorded (the read was served)
V3_READ_THROUGH = "V3ReadThrough"  # v3 hit on a key written recently through the API: legacy answered
V3_FALLBACK = "V3Fallback"
V3_ERROR = "V3Error"
FLAG_INVALID = "FlagInvalid"  # the flag is missing or holds an unknown value (operator fix)
FLAG_UNREADABLE = "FlagUnreadable"  # SSM could not be reached or refused the read (not the flag's fault)
BACKEND_UNAVAILABLE = "BackendUnavailable"  # a table read/write failed: the request got 503
