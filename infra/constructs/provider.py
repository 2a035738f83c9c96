"""One way to build a deploy-time check or action: a Python Lambda behind the CDK Provider framework.

Why the Provider framework: the handler just returns or raises (raising fails the deployment with
the message), and the framework does the CloudFormation response protocol, so each handler under
infra/functions/<name>/index.py is a plain function we unit-test in-process.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.code import ARCHITECTURE, RUNTIME
from infra.nag import acknowledge, arn_ref

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"


class DeployTimeFunction(Construct):
    """Attributes: `function` (grant it what it needs), `service_token` (for a `CustomResource`)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, name: str, description: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="index.on_event",
            code=lambda_.Code.from_asset(str(FUNCTIONS / name), exclude=["__pycache__", "*.pyc"]),
            timeout=Duration.minutes(1),
            description=description,
            log_group=logs.LogGroup(
                self,
                "Logs",
                retention=logs.RetentionDays.ONE_YEAR,
                removal_policy=RemovalPolicy.RETAIN if config.retain else RemovalPolicy.DESTROY,
            ),
        )
        self.service_token = cr.Provider(self, "Provider", on_event_handler=self.function).service_token
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="python3.12 pinned to match the application functions; "
                "the Provider framework's Node.js runtime is chosen by aws-cdk-lib.",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                reason="Managed basic execution policy only writes the functions' own logs.",
            ),
        )
        acknowledge(
            self,
            f"AwsSolutions-IAM5[Resource::{arn_ref(self.function)}:*]",
            "The CDK Provider framework may invoke any version of its own on-event function.",
        )
