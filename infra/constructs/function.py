"""One way to build a cutover Lambda: arm64, python3.12, Powertools layer, validated env, logs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cutover.environment import FunctionEnv
from infra.config import StageConfig
from infra.constructs.code import ARCHITECTURE, RUNTIME, lambda_code
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
    ) -> None:
        super().__init__(scope, construct_id)
        common = {
            "SERVICE": config.service,
            "STAGE": config.stage,
            "STAGE_CLASS": config.stage_class,
            "POWERTOOLS_SERVICE_NAME": config.service,
        }
        environment = build_environment(env, {**common, **values}, config.stage_class)
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
            code=lambda_code(),
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
        if placement:
            Validations.of(self).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
                    reason="vpc flag only: the AWS-managed policy that lets Lambda manage its ENIs in our subnets.",
                )
            )
