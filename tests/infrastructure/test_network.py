"""The optional VPC (staging is synthesized with vpc=true; dev and prod without)."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.infra


def test_vpc_flag_places_every_app_function_in_isolated_subnets(synth):
    stacks = [role for role in ("replication", "api") if role in synth.templates]  # no example API for the catalog
    functions = [r["Properties"] for role in stacks for _, r in synth.resources("AWS::Lambda::Function", role)]
    placed = [f for f in functions if "VpcConfig" in f]
    if synth.ctx("vpc") != "true":
        # Then without the flag there is no network stack and nothing is in a VPC
        assert "network" not in synth.templates and placed == []
        return
    # Then the application functions run in the VPC (stream, backfill, reconcile segment and run, API)...
    assert sorted(f["Handler"] for f in placed) == sorted(
        [
            "replicator.handler.lambda_handler",
            "backfill.segment_lambda.lambda_handler",
            "reconciler.segment_lambda.lambda_handler",
            "reconciler.merge.lambda_handler",
            *(["app_handlers.api.lambda_handler"] if "api" in synth.templates else []),
        ]
    )
    network = synth.templates["network"]["Resources"].values()
    # ...with a DynamoDB gateway endpoint and no route to the internet
    endpoints = [r["Properties"] for r in network if r["Type"] == "AWS::EC2::VPCEndpoint"]
    assert any(
        e.get("VpcEndpointType", "Gateway") == "Gateway" and "dynamodb" in str(e["ServiceName"]) for e in endpoints
    )
    assert not [r for r in network if r["Type"] in ("AWS::EC2::NatGateway", "AWS::EC2::InternetGateway")]


# An availability zone's name: CDK's placeholder (`dummy1a`, environment-agnostic) or a real one
# (`eu-west-1a`, looked up when synthesized with -c account/region).
ZONE_NAME = re.compile(r"dummy1|\b[a-z]{2}(?:-gov)?-[a-z]+-\d[a-z]\b")


def test_network_never_hardcodes_availability_zones(synth):
    # With -c account/region (the runbook) CDK would look AZs up and bake in their names: no
    # template of any variant names a zone
    assert not ZONE_NAME.findall(json.dumps(synth.templates))
    subnets = [r["Properties"] for _, r in synth.resources("AWS::EC2::Subnet")]
    if synth.stage == "staging":
        # Then staging (vpc=true) has subnets, each in a zone chosen at deploy time
        assert synth.ctx("vpc") == "true" and "network" in synth.templates
        assert subnets and all("Fn::GetAZs" in str(s["AvailabilityZone"]) for s in subnets)
    else:
        # Then dev and prod (no vpc flag) have no network stack and no subnet anywhere
        assert synth.ctx("vpc") != "true" and "network" not in synth.templates and subnets == []
