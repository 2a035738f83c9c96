"""The read-source flag's SSM mirror, created by a deploy only if absent (infra/functions/read_source_flag).

Readers obey the reports table's flip control item (controlplane/flag.py); this parameter is the copy
`cutover flip` writes after each flip, for people and dashboards.
"""

from __future__ import annotations

from aws_cdk import CustomResource, RemovalPolicy
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.provider import DeployTimeFunction
from infra.constructs.refs import parameter_arn

INITIAL_VALUE = "legacy"


class ReadSourceFlag(Construct):
    """Attributes: `parameter_name`, `resource` (the `Custom::ReadSourceFlag`).

    The function may only PutParameter on this one name; it never reads or deletes it, and its
    handler never overwrites, so `cutover flip` stays the only writer of the value.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.parameter_name = config.names.read_source_parameter
        creator = DeployTimeFunction(
            self,
            "Create",
            config=config,
            name="read_source_flag",
            description="Creates the read-source flag if absent; never changes or deletes it",
        )
        iam.Grant.add_to_principal(
            grantee=creator.function,
            actions=["ssm:PutParameter"],
            resource_arns=[parameter_arn(self, self.parameter_name)],
        )
        self.resource = CustomResource(
            self,
            "Flag",
            service_token=creator.service_token,
            resource_type="Custom::ReadSourceFlag",
            properties={
                "Name": self.parameter_name,
                "InitialValue": INITIAL_VALUE,
                "Description": "cutover read-source flag: legacy | shadow | v3. "
                "Change with `cutover flip`, never by deploy.",
            },
            removal_policy=RemovalPolicy.RETAIN,
        )
