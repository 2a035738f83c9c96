"""Replication that stops silently pages (issue 20, minor): if the Serverless stack re-creates a
legacy stream, the event source mapping stays on the old ARN, the replicator is no longer invoked,
and IteratorAge has no data at all, so the lag alarm (missing data = not breaching) stays quiet."""

from __future__ import annotations

import json


def _stall_alarms(synth) -> dict[str, dict]:
    alarms = [res["Properties"] for _, res in synth.resources("AWS::CloudWatch::Alarm", "replication")]
    return {
        role: [a for a in alarms if f"legacy {role} table takes writes" in a["AlarmDescription"]]
        for role in synth.roles
    }


def test_writes_to_a_legacy_table_without_replicator_invocations_page(synth):
    # Given the replication stack's alarms, then each legacy table has one that fires when it takes
    # writes while the replicator is not invoked at all, for 3 periods in a row
    for role, alarms in _stall_alarms(synth).items():
        assert len(alarms) == 1, role
        (alarm,) = alarms
        metrics = {m["Id"]: m for m in alarm["Metrics"]}
        (expression,) = [m for m in metrics.values() if "Expression" in m]
        # both inputs count as 0 when absent: a replicator that is never invoked publishes nothing
        assert expression["Expression"] == "IF(FILL(writes, 0) > 0 AND FILL(invocations, 0) == 0, 1, 0)"
        writes = json.dumps(metrics["writes"]["MetricStat"])
        assert "ConsumedWriteCapacityUnits" in writes and synth.legacy_table(role) in writes
        assert metrics["invocations"]["MetricStat"]["Metric"]["MetricName"] == "Invocations"
        assert (alarm["EvaluationPeriods"], alarm["Threshold"]) == (3, 1)
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and alarm["AlarmActions"]
