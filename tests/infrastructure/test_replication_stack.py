"""Replication stack per stage and migration: one event source, failure queue and exact grants per
source role, backfill state machine, alarms."""

from __future__ import annotations

import importlib.metadata
import json
import re

import pytest
from aws_cdk.assertions import Match, Template

from cutover.environment import BACKFILL_SEGMENT_ENV, RECONCILE_RUN_ENV, RECONCILE_SEGMENT_ENV, REPLICATOR_ENV

pytestmark = pytest.mark.infra

# Literal target table names (docs/CONTRACT.md for the seed, migrations/catalog.py), NOT read from cutover.names.
TARGET = {"seed": "users-v3", "catalog": "catalog"}


def target_table(synth) -> str:
    return f"my-service-{synth.stage}-{TARGET[synth.migration]}"


def _function(synth, role, handler):
    found = [
        res for _, res in synth.resources("AWS::Lambda::Function", role) if res["Properties"].get("Handler") == handler
    ]
    assert len(found) == 1, f"expected one function with handler {handler}"
    return found[0]["Properties"]


def test_each_legacy_stream_has_a_bounded_event_source(synth):
    # Given the replication stack's event source mappings
    mappings = [res["Properties"] for _, res in synth.resources("AWS::Lambda::EventSourceMapping", "replication")]
    # Then there is one per legacy stream (one per source role of the migration), with every safety setting
    assert len(synth.roles) == 2
    assert sorted(m["EventSourceArn"] for m in mappings) == sorted(synth.legacy_stream(role) for role in synth.roles)
    factor = int(synth.ctx("parallelizationFactor") or 1)
    for m in mappings:
        assert m["StartingPosition"] == "TRIM_HORIZON"
        assert m["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert m["BisectBatchOnFunctionError"] is True
        assert 0 < m["MaximumRetryAttempts"] <= 10
        # never discard a record while the stream still holds it (first deploy at TRIM_HORIZON sees
        # records up to 24 h old; an outage must not turn records into bare pointers)
        assert m["MaximumRecordAgeInSeconds"] == -1
        assert m["ParallelizationFactor"] == factor
        assert "Fn::GetAtt" in m["DestinationConfig"]["OnFailure"]["Destination"]


def test_failure_queues_are_encrypted_retained_and_tls_only(synth):
    template = Template.from_json(synth.templates["replication"])
    queues = synth.resources("AWS::SQS::Queue", "replication")
    # one on-failure queue per source, named by its role
    assert sorted(q["Properties"]["QueueName"] for _, q in queues) == sorted(
        f"my-service-{synth.stage}-cutover-{role}-stream-failures" for role in synth.roles
    )
    for _, queue in queues:
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
        assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
        # kept through deletion and replacement, not left behind by a rolled-back first create
        assert queue["DeletionPolicy"] == ("Delete" if synth.stage == "dev" else "RetainExceptOnCreate")
        assert queue["UpdateReplacePolicy"] == ("Delete" if synth.stage == "dev" else "Retain")
    template.resource_properties_count_is(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
        len(synth.roles),
    )


def test_functions_are_arm64_python312_with_powertools_and_valid_env(synth):
    for role, handler, env in (
        ("replication", "replicator.handler.lambda_handler", REPLICATOR_ENV),
        ("replication", "backfill.segment_lambda.lambda_handler", BACKFILL_SEGMENT_ENV),
        ("replication", "reconciler.segment_lambda.lambda_handler", RECONCILE_SEGMENT_ENV),
        ("replication", "reconciler.merge.lambda_handler", RECONCILE_RUN_ENV),
    ):
        props = _function(synth, role, handler)
        assert props["Runtime"] == "python3.12" and props["Architectures"] == ["arm64"]
        # the layer ARN is a template parameter resolved from Powertools' public SSM parameter for
        # exactly the installed (pinned, tested) version, never a guessed layer number
        (ref,) = props["Layers"]
        parameter = synth.templates[role]["Parameters"][ref["Ref"]]
        assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
        version = importlib.metadata.version("aws-lambda-powertools")
        assert parameter["Default"] == f"/aws/service/powertools/python/arm64/python3.12/{version}"
        variables = props["Environment"]["Variables"]
        # the same declaration the handler validates at cold start accepts what CDK deployed
        assert env.problems(variables) == []
        assert variables["STAGE"] == synth.stage
        # every legacy table by source role, as JSON with sorted keys, and the target
        assert variables["SOURCE_TABLES"] == json.dumps(
            {role: synth.legacy_table(role) for role in sorted(synth.roles)}, sort_keys=True
        )
        assert variables["V3_TABLE"] == target_table(synth)
        # the seed is every function's default definition; any other is named (and bundled)
        assert variables.get("CUTOVER_MIGRATION") == synth.ctx("migration")
        if synth.ctx("vpc") == "true":
            assert props["VpcConfig"]["SubnetIds"]


def _definition(synth, name: str = "backfill") -> dict:
    """The definition of the `<prefix>-cutover-<name>` state machine (tokens as "TOKEN")."""
    (machine,) = [
        res["Properties"]
        for _, res in synth.resources("AWS::StepFunctions::StateMachine", "replication")
        if res["Properties"]["StateMachineName"].endswith(f"-cutover-{name}")
    ]
    parts = machine["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts))


def test_backfill_is_a_distributed_map_looping_each_segment_until_done(synth):
    # Given the backfill state machine definition
    definition = _definition(synth)
    segments = definition["States"]["Segments"]
    # Then a distributed Map with a concurrency limit runs the segment loop
    assert segments["Type"] == "Map" and segments["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert segments["MaxConcurrency"] == int(synth.ctx("backfillMaxConcurrency") or 10)
    inner = segments["ItemProcessor"]["States"]
    run, choice = inner["Run segment"], inner["Segment done?"]
    assert run["Next"] == "Segment done?"
    retried = {e for r in run["Retry"] for e in r["ErrorEquals"]}
    assert {"Lambda.TooManyRequestsException", "Lambda.ServiceException"} <= retried
    # a segment that is not done is invoked again; done ends that segment
    assert choice["Default"] == "Run segment"
    assert choice["Choices"] == [{"Variable": "$.result.done", "BooleanEquals": True, "Next": "Segment finished"}]
    assert "States.ArrayRange" in definition["States"]["Plan segments"]["Parameters"]["segment_ids.$"]
    # and each segment's invocation carries the per-segment rate from the input (items/s, or null)
    assert definition["States"]["Plan segments"]["Parameters"]["rate.$"] == "$.rate"
    assert segments["ItemSelector"]["rate.$"] == "$.rate" and run["Parameters"]["rate.$"] == "$.rate"


def test_backfill_refuses_a_table_that_is_not_a_source_role_before_any_segment(synth):
    # Given the backfill machine's first check, once the input's defaults are applied
    definition = _definition(synth)
    assert definition["StartAt"] == "Defaults" and definition["States"]["Apply defaults"]["Next"] == "Known table?"
    known = definition["States"]["Known table?"]
    # Then only the migration's source roles go on to plan segments; anything else fails at once
    assert known["Type"] == "Choice" and known["Default"] == "Unknown table"
    (rule,) = known["Choices"]
    present, roles = rule["And"]
    assert present == {"Variable": "$.table", "IsPresent": True}
    assert sorted(c["StringEquals"] for c in roles["Or"]) == sorted(synth.roles)
    # (the other fields' checks follow; tests/infrastructure/test_machine_inputs.py plays them all)
    assert rule["Next"] == "Segments valid?"
    failed = definition["States"]["Unknown table"]
    assert failed["Type"] == "Fail" and failed["Error"] == "UnknownTable"
    assert all(role in failed["Cause"] for role in synth.roles)


def _alarms(synth) -> dict[str, dict]:
    return {
        res["Properties"]["AlarmDescription"]: res["Properties"]
        for _, res in synth.resources("AWS::CloudWatch::Alarm", "replication")
    }


def _find(alarms, fragment):
    found = [a for d, a in alarms.items() if fragment in d]
    assert found, f"no alarm about {fragment!r}"
    return found


def test_alarms_have_thresholds_and_notify_the_topic(synth):
    alarms = _alarms(synth)
    lag = _find(alarms, "replication lag")[0]
    assert lag["MetricName"] == "IteratorAge" and lag["Statistic"] == "Maximum"
    assert lag["Threshold"] == int(synth.ctx("iteratorAgeAlarmSeconds") or 300) * 1000
    # failures are REPORTED (batchItemFailures), not raised, so Lambda Errors alone never fires
    failed = _find(alarms, "reported failed")[0]
    assert (failed["Namespace"], failed["MetricName"], failed["Statistic"], failed["Threshold"]) == (
        "cutover",
        "RecordsFailed",
        "Sum",
        1,
    )
    assert failed["Dimensions"] == [{"Name": "service", "Value": "my-service"}]
    assert _find(alarms, "quarantined by replication")[0]["MetricName"] == "RecordsQuarantined"
    errors = _find(alarms, "replicator invocation errors")[0]
    assert errors["MetricName"] == "Errors" and errors["Threshold"] == 1
    throttles = _find(alarms, "throttled requests on the v3 table")[0]
    metrics = json.dumps(throttles["Metrics"])
    assert "ThrottledRequests" in metrics and target_table(synth) in metrics
    depth = _find(alarms, "exhausted retries")
    assert len(depth) == len(synth.roles) and all(
        a["MetricName"] == "ApproximateNumberOfMessagesVisible" and a["Threshold"] == 1 for a in depth
    )
    quarantine = _find(alarms, "writes to the quarantine table")[0]
    assert quarantine["MetricName"] == "ConsumedWriteCapacityUnits"
    assert quarantine["Dimensions"] == [{"Name": "TableName", "Value": f"my-service-{synth.stage}-cutover-quarantine"}]
    for alarm in alarms.values():
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert re.search(r"Alarms", json.dumps(alarm["AlarmActions"]))


def test_dashboard_and_encrypted_topic_exist(synth):
    template = Template.from_json(synth.templates["replication"])
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    body = json.dumps(synth.resources("AWS::CloudWatch::Dashboard", "replication")[0][1]["Properties"]["DashboardBody"])
    for metric in ("IteratorAge", "Invocations", "Errors", "ConsumedWriteCapacityUnits", "RecordsQuarantined"):
        assert metric in body
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    subscriptions = synth.resources("AWS::SNS::Subscription", "replication")
    assert len(subscriptions) == (1 if synth.ctx("alarmEmail") else 0)


def test_dashboard_outcome_metrics_match_what_the_replicator_emits():
    from infra.constructs.monitoring import APP_NAMESPACE, REPLICATOR_OUTCOMES
    from replicator import handler

    assert APP_NAMESPACE == handler.METRICS_NAMESPACE
    assert set(REPLICATOR_OUTCOMES) == set(handler._OUTCOME_METRICS.values())


def _grants(synth, handler) -> dict[str, set[str]]:
    """Table name -> DynamoDB actions granted to the function with `handler` (from its role's policy)."""
    fn = [
        res
        for _, res in synth.resources("AWS::Lambda::Function", "replication")
        if res["Properties"]["Handler"] == handler
    ][0]
    role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    grants: dict[str, set[str]] = {}
    for _, policy in synth.resources("AWS::IAM::Policy", "replication"):
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for resource in resources:
                for table in re.findall(r"table/([A-Za-z0-9_.-]+)", json.dumps(resource)):
                    grants.setdefault(table, set()).update(a for a in actions if a.startswith("dynamodb:"))
    return grants


STREAM_READ = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}


def statements_of(synth, handler, stack: str = "replication") -> list[tuple[set[str], list[str], dict]]:
    """(actions, resources as JSON text) of every policy statement granted to the function with `handler`."""
    fns = [res for _, res in synth.resources("AWS::Lambda::Function", stack) if res["Properties"]["Handler"] == handler]
    role = fns[0]["Properties"]["Role"]["Fn::GetAtt"][0]
    found = []
    for _, policy in synth.resources("AWS::IAM::Policy", stack):
        if {"Ref": role} in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                resources = (
                    statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                )
                found.append((set(actions), [json.dumps(r) for r in resources], statement))
    return found


def test_the_replicator_reads_exactly_each_legacy_stream(synth):
    # Given the replicator's statements naming a legacy table or its stream
    legacy = [
        (actions, resource)
        for actions, resources, _ in statements_of(synth, "replicator.handler.lambda_handler")
        for resource in resources
        if any(re.search(rf"table/{re.escape(synth.legacy_table(role))}[\"/]", resource) for role in synth.roles)
    ]
    # Then each is a stream read on exactly that source's stream ARN (the event source's grant)
    assert sorted(r for _, r in legacy) == sorted(json.dumps(synth.legacy_stream(role)) for role in synth.roles)
    assert all(actions == STREAM_READ for actions, _ in legacy)


def test_replicator_and_segment_get_exactly_the_v3_calls_they_make(synth):
    v3, quarantine = target_table(synth), f"my-service-{synth.stage}-cutover-quarantine"
    replicator = _grants(synth, "replicator.handler.lambda_handler")
    # the replicator only ever writes v3 with a conditional PutItem
    assert replicator[v3] == {"dynamodb:PutItem"}
    assert replicator[quarantine] == {"dynamodb:PutItem", "dynamodb:UpdateItem"}
    segment = _grants(synth, "backfill.segment_lambda.lambda_handler")
    # a segment reads the current version, then writes conditionally on it
    assert segment[v3] == {"dynamodb:GetItem", "dynamodb:PutItem"}
    assert segment[quarantine] == {"dynamodb:PutItem", "dynamodb:UpdateItem"}
    # and on each legacy table it only scans, and re-reads one bad item consistently before quarantining
    # it (issue 20, major 1: without GetItem the re-read is AccessDenied and the Map fails); never writes
    for role in synth.roles:
        assert segment[synth.legacy_table(role)] == {"dynamodb:Scan", "dynamodb:GetItem"}
    # its cursor: read, then a put conditional on its revision (backfill/checkpoint.py); no reports
    assert segment[f"my-service-{synth.stage}-cutover-checkpoints"] == {"dynamodb:GetItem", "dynamodb:PutItem"}
    assert f"my-service-{synth.stage}-cutover-reports" not in segment
    # the replicator reads the legacy streams (its event sources), never a legacy table (see below)
    for role in synth.roles:
        assert replicator[synth.legacy_table(role)] == STREAM_READ


def test_alarm_key_is_usable_by_cloudwatch_of_this_account_only(synth):
    (key,) = [r["Properties"] for _, r in synth.resources("AWS::KMS::Key", "replication")]
    statements = [
        s for s in key["KeyPolicy"]["Statement"] if s.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com"
    ]
    # every statement letting CloudWatch use the key is limited to alarms of this account
    assert statements
    for statement in statements:
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_backfill_reads_of_the_legacy_tables_have_throttle_alarms(synth):
    # Given the deployed alarms, Then each legacy table's throttled reads (Scan/Get/Query) page the topic
    alarms = _alarms(synth)
    for source in synth.roles:
        [alarm] = _find(alarms, f"throttled reads on the legacy {source} table")
        metrics = json.dumps(alarm["Metrics"])
        assert "ThrottledRequests" in metrics and '"Scan"' in metrics
        assert synth.legacy_table(source) in metrics


def test_segment_functions_have_reserved_concurrency_and_reconcile_failures_alarm(synth):
    # Given the segment Lambdas: a backfill run (`--table all`) is one execution per source, each
    # with a Map of backfillMaxConcurrency segments (one run at a time: the backfill lease, issue 19.8);
    # a reconcile run is one execution with one Map
    explicit, map_concurrency = synth.ctx("segmentReservedConcurrency"), int(synth.ctx("backfillMaxConcurrency") or 10)
    backfill = int(explicit or len(synth.roles) * map_concurrency)
    reconcile = int(explicit or map_concurrency)
    # Then the backfill function reserves sources x Map concurrency, so no segment of `--table all` is
    # throttled out of its retries (issue 20, major 3), and the reconcile function the Map's concurrency
    assert _function(synth, "replication", "backfill.segment_lambda.lambda_handler")[
        "ReservedConcurrentExecutions"
    ] == (backfill)
    assert _function(synth, "replication", "reconciler.segment_lambda.lambda_handler")[
        "ReservedConcurrentExecutions"
    ] == (reconcile)
    # And a failed reconcile execution pages the topic, like a failed backfill
    assert _find(_alarms(synth), "failed reconcile executions")


@pytest.mark.parametrize(("value", "expected"), [("25", 25), ("off", None)])
def test_the_segments_reservation_can_be_set_apart_from_the_map_or_off(synth_with, value, expected):
    # Given the reservation set apart from the Map's concurrency, or turned off (low quota accounts)
    templates = synth_with("staging", segmentReservedConcurrency=value)
    resources = templates["replication"]["Resources"].values()
    functions = [
        res["Properties"]
        for res in resources
        if res["Type"] == "AWS::Lambda::Function" and "segment_lambda" in res["Properties"].get("Handler", "")
    ]
    # Then both segment functions get it, and the Maps keep their own concurrency
    assert len(functions) == 2
    assert all(f.get("ReservedConcurrentExecutions") == expected for f in functions)
    machines = [r for r in resources if r["Type"] == "AWS::StepFunctions::StateMachine"]
    texts = [
        "".join(p for p in m["Properties"]["DefinitionString"]["Fn::Join"][1] if isinstance(p, str)) for m in machines
    ]
    assert len(texts) == 2 and all('"MaxConcurrency":10' in text for text in texts)
