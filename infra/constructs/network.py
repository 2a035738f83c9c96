"""Optional VPC placement (context `vpc=true`) for teams whose functions must run in a VPC.

Isolated subnets only (no NAT, no internet): DynamoDB through a gateway endpoint (free), SSM
through an interface endpoint (the API reads the read-source flag; functions that transform read
the migration's SecureString secrets there, which SSM decrypts with KMS on their behalf).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Fn, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from infra.constructs.function import Placement
from infra.nag import acknowledge


class NetworkStack(Stack):
    """The network stack. Its AZs are always `Fn::GetAZs` picks, even with a concrete account/region.

    Why: with `-c account -c region` (as the runbook synthesizes) CDK would otherwise look the
    AZs up through a context provider, which needs credentials at synth and hard-codes AZ names
    in the template (cfn-lint W3010); two GetAZs picks are resolved by CloudFormation instead.
    """

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)

    @property
    def availability_zones(self) -> list[str]:
        return [Fn.select(index, Fn.get_azs()) for index in range(2)]


class Network(Construct):
    """Attributes: `vpc`, `placement` (what functions pass to be placed in the VPC)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
            gateway_endpoints={
                "DynamoDB": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)
            },
        )
        for name, service in (("Ssm", ec2.InterfaceVpcEndpointAwsService.SSM),):
            endpoint = self.vpc.add_interface_endpoint(name, service=service, private_dns_enabled=True)
            acknowledge(
                endpoint,
                "AwsSolutions-EC23",
                "The endpoint's security group admits HTTPS from the VPC CIDR "
                "only; cdk-nag cannot evaluate the CIDR because it is a CloudFormation reference.",
            )
        security_group = ec2.SecurityGroup(
            self,
            "FunctionsSg",
            vpc=self.vpc,
            allow_all_outbound=True,
            description="cutover Lambda functions (egress to VPC endpoints only)",
        )
        self.placement = Placement(vpc=self.vpc, security_group=security_group)
        Validations.of(self.vpc).acknowledge(
            Acknowledgment(
                id="AwsSolutions-VPC7",
                reason="Isolated subnets with endpoints only; flow logs are the platform team's account-level choice.",
            )
        )
