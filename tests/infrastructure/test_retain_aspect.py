"""The prod guard: a stateful resource without Retain fails synthesis, naming it."""
from __future__ import annotations

import pytest
from aws_cdk import App, Aspects, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sqs as sqs

from infra.aspects import RequireRetain, unretained

pytestmark = pytest.mark.infra


def _prod_stack(removal: RemovalPolicy) -> tuple[App, Stack]:
    app = App()
    stack = Stack(app, "my-service-prod-stateful")
    dynamodb.Table(stack, "Orphan", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
                   removal_policy=removal)
    sqs.Queue(stack, "Failures", removal_policy=RemovalPolicy.RETAIN)
    Aspects.of(stack).add(RequireRetain())
    return app, stack


def test_prod_stack_with_unretained_table_fails_synthesis_naming_it():
    # Given a prod stack whose table would be deleted with the stack
    app, _ = _prod_stack(RemovalPolicy.DESTROY)
    # When it is synthesized
    with pytest.raises(Exception) as error:
        app.synth()
    # Then synthesis fails naming the table (and not the retained queue) and the fix
    message = str(error.value)
    assert "my-service-prod-stateful/Orphan/Resource (AWS::DynamoDB::Table)" in message
    assert "Failures" not in message
    assert "RemovalPolicy.RETAIN" in message


def test_prod_stack_with_retained_resources_synthesizes():
    app, stack = _prod_stack(RemovalPolicy.RETAIN)
    assembly = app.synth()
    assert assembly.get_stack_by_name(stack.stack_name).template["Resources"]


def test_snapshot_policy_is_not_enough():
    # SNAPSHOT keeps a copy but still deletes the live resource: not acceptable in prod
    app = App()
    stack = Stack(app, "S")
    sqs.Queue(stack, "Q", removal_policy=RemovalPolicy.DESTROY)
    assert unretained(stack) == ["S/Q/Resource (AWS::SQS::Queue)"]


def test_the_real_prod_app_passes_the_guard(synth_stage):
    # Given the real prod stacks (synthesized with the aspect attached)
    prod = synth_stage("prod")
    # Then nothing stateful in them is unretained
    for stack in prod.stacks.values():
        assert unretained(stack) == []
