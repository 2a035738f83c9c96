"""Remote runs, from the synthesized templates: the reconcile state machine's definition, its
functions' exact grants, and the names the deployment publishes for the CLI (SSM)."""

from __future__ import annotations

import json

import pytest

from tests.infrastructure.test_replication_stack import _definition, _grants, target_table

pytestmark = pytest.mark.infra


def test_reconcile_begins_maps_every_part_segment_until_done_then_merges(synth):
    # Given the reconcile state machine definition
    definition = _definition(synth, "reconcile")
    states = definition["States"]
    # Then, once its input is defaulted and checked (tests/infrastructure/test_machine_inputs.py),
    # it runs Begin, the Parts map, and ends with Merge
    assert definition["StartAt"] == "Defaults" and states["Repair valid?"]["Choices"][0]["Next"] == "Begin"
    assert states["Begin"]["Next"] == "Parts" and states["Parts"]["Next"] == "Merge" and states["Merge"]["End"]
    assert states["Begin"]["Parameters"]["step"] == "begin" and states["Merge"]["Parameters"]["step"] == "merge"
    # And the map is distributed, bounded, over the items Begin returned (part x segment)
    parts = states["Parts"]
    assert parts["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert parts["ItemsPath"] == "$.begin.items"
    assert parts["MaxConcurrency"] == int(synth.ctx("backfillMaxConcurrency") or 10)
    assert parts["ItemSelector"]["part.$"] == "$$.Map.Item.Value.part"
    # And each item's segment Lambda is invoked again until it says done
    inner = parts["ItemProcessor"]["States"]
    run, choice = inner["Run part"], inner["Segment done?"]
    assert choice["Default"] == "Run part"
    assert choice["Choices"] == [{"Variable": "$.result.done", "BooleanEquals": True, "Next": "Segment finished"}]
    assert {"run_id.$", "segments.$", "sample.$", "repair.$", "part.$", "segment.$"} == set(run["Parameters"])
    assert "Lambda.TooManyRequestsException" in {e for r in run["Retry"] for e in r["ErrorEquals"]}


def test_reconcile_functions_get_exactly_the_calls_they_make(synth):
    names = {
        "v3": target_table(synth),
        "quarantine": f"my-service-{synth.stage}-cutover-quarantine",
        "reports": f"my-service-{synth.stage}-cutover-reports",
        "checkpoints": f"my-service-{synth.stage}-cutover-checkpoints",
    }
    legacy = [synth.legacy_table(role) for role in synth.roles]
    segment = _grants(synth, "reconciler.segment_lambda.lambda_handler")
    # a segment scans and batch-reads both sides, re-reads consistently, repairs through the guarded put
    for table in legacy:
        assert segment[table] == {"dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:GetItem"}
    assert segment[names["v3"]] == {"dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"}
    assert segment[names["quarantine"]] == {"dynamodb:GetItem", "dynamodb:PutItem"}
    assert segment[names["reports"]] == {"dynamodb:GetItem", "dynamodb:PutItem"}
    # never touches positions or backfill cursors; a migration with transform secrets reads their pins
    # there, GetItem on the `secret-pin` partition only (tests/infrastructure/test_migrations.py)
    assert segment.get(names["checkpoints"], set()) <= ({"dynamodb:GetItem"} if synth.migration == "catalog" else set())
    run = _grants(synth, "reconciler.merge.lambda_handler")
    for table in legacy:
        assert run[table] == {"dynamodb:GetItem"}  # the quarantine sweep's re-read, nothing else
    assert run[names["v3"]] == {"dynamodb:GetItem"}
    assert run[names["quarantine"]] == {"dynamodb:Scan", "dynamodb:UpdateItem"}
    assert run[names["checkpoints"]] == {"dynamodb:GetItem", "dynamodb:Query"}
    assert run[names["reports"]] == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}


def test_the_deployment_publishes_its_names_and_state_machines_for_the_cli(synth):
    # Given the SSM parameter at Names.deployment_parameter
    (parameter,) = [
        res
        for _, res in synth.resources("AWS::SSM::Parameter", "replication")
        if res["Properties"]["Name"] == f"/my-service/{synth.stage}/cutover/deployment"
    ]
    props = parameter["Properties"]
    assert props["Type"] == "String"
    # Then its JSON names every table and both state machines (ARNs resolved at deploy time)
    joined = props["Value"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else json.dumps(p) for p in joined)
    assert f'"migration":"{synth.migration}"' in text.replace(" ", "")  # the definition's name
    for key in (
        "sourceTables",
        "v3Table",
        "checkpointsTable",
        "quarantineTable",
        "reportsTable",
        "backfillStateMachineArn",
        "reconcileStateMachineArn",
    ):
        assert f'"{key}"' in text
    # the legacy tables by source role (what Names.with_published reads back), keys sorted
    published = json.dumps({role: synth.legacy_table(role) for role in sorted(synth.roles)})
    assert f'"sourceTables":{published.replace(" ", "")}' in text.replace(" ", "")
    assert "usersTable" not in text and "ordersTable" not in text
    machines = [lid for lid, _ in synth.resources("AWS::StepFunctions::StateMachine", "replication")]
    assert len(machines) == 2 and all(json.dumps({"Ref": lid}) in text for lid in machines)
    # And it is retained outside dev, except by the rollback of its own creation (every deploy rewrites it)
    expected = ("Delete", "Delete") if synth.stage == "dev" else ("RetainExceptOnCreate", "Retain")
    assert (parameter["DeletionPolicy"], parameter["UpdateReplacePolicy"]) == expected
