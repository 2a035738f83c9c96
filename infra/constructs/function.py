"""One way to build a cutover Lambda: arm64, python3.12, Powertools layer, validated env, logs.

Every function that runs the engine reads the same migration definition, so what it needs of it
is set here, once, for each function whose `FunctionEnv` declares it: `SOURCE_TABLES` (JSON
{role: legacy table}), `V3_TABLE` (the target) and, for a definition other than the seed,
`CUTOVER_MIGRATION` (its package is in the bundle). A function built with `transforms=True`
is granted exactly the definition's secrets (infra/constructs/secrets.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Token, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cutover.environment import FunctionEnv
from infra.config import StageConfig
from infra.constructs.code import ARCHITECTURE, RUNTIME, lambda_code
from infra.constructs.secrets import grant_transform_secrets
from infra.environment import build_environment


@dataclass(frozen=True)
class Placement:
    """Optional VPC placement (context flag `vpc`): private isolated subnets + security group."""

    vpc: ec2.IVpc
    security_group: ec2.ISecurityGroup


class CutoverFunction(Construct):
    """A Lambda whose environment is built from its `FunctionEnv` declaration (synth fails on a gap).

    Attributes: `function`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        handler: str,
        env: FunctionEnv,
        values: Mapping[str, str],
        layer: lambda_.ILayerVersion,
        timeout: Duration,
        memory_mb: int = 512,
        placement: Placement | None = None,
        description: str = "",
        reserved_concurrency: int | None = None,
        transforms: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        common = {
            "SERVICE": config.service,
            "STAGE": config.stage,
            "STAGE_CLASS": config.stage_class,
            "POWERTOOLS_SERVICE_NAME": config.service,
        }
        declared = {v.name for v in env.variables}
        definition = {k: v for k, v in definition_values(self, config).items() if k in declared}
        environment = build_environment(env, {**common, **definition, **values}, config.stage_class)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays.THREE_MONTHS if config.is_prod else logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.RETAIN if config.retain else RemovalPolicy.DESTROY,
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=lambda_code(config.migration, config.migration_spec),
            layers=[layer],
            environment=environment,
            timeout=timeout,
            memory_size=memory_mb,
            log_group=self.log_group,
            description=description or f"cutover {env.function} ({config.stage})",
            vpc=placement.vpc if placement else None,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED) if placement else None,
            security_groups=[placement.security_group] if placement else None,
            reserved_concurrent_executions=reserved_concurrency,
        )
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="python3.12 is pinned on purpose: it is the runtime the Powertools arm64 layer "
                "and our tests target; upgrade deliberately, not by default.",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                reason="AWS-managed basic execution policy only grants writing this function's own "
                "CloudWatch logs; data access is granted separately to exact ARNs.",
            ),
        )
        if transforms:
            grant_transform_secrets(self.function, config)
        if placement:
            Validations.of(self).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
                    reason="vpc flag only: the AWS-managed policy that lets Lambda manage its ENIs in our subnets.",
                )
            )


def source_tables_value(scope: Construct, tables: Mapping[str, str]) -> str:
    """`SOURCE_TABLES`: JSON {role: table}, keys sorted. A name CloudFormation resolves at deploy
    time (a token) cannot go through json.dumps, so then the stack renders the JSON instead."""
    ordered = dict(sorted(tables.items()))
    if any(Token.is_unresolved(name) for name in ordered.values()):
        return Stack.of(scope).to_json_string(ordered)
    return json.dumps(ordered, sort_keys=True)


def definition_values(scope: Construct, config: StageConfig) -> dict[str, str]:
    """What every engine function needs of the migration definition (see the module doc)."""
    values = {
        "SOURCE_TABLES": source_tables_value(scope, config.source_tables()),
        "V3_TABLE": config.names.v3_table,
    }
    if config.migration_spec is not None:
        values["CUTOVER_MIGRATION"] = config.migration_spec
    return values
