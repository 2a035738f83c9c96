"""Exactly the secrets a migration's transforms need, granted to exactly the functions that transform.

A definition declares its `Secret`s (an SSM SecureString under `/{service}/{stage}/`, pinned by
version; `cutover/transform_secrets.py` reads it once per process). Each transforming function
(replicator, backfill segment, reconcile segment and run, the API when it is deployed) gets, per
secret, `ssm:GetParameter` on that one parameter's ARN, and `kms:Decrypt` only through SSM in this
region (`kms:ViaService`): the SecureString's key may be the account's `aws/ssm` key or the team's
own, which synth cannot know, so the key is any of this account's, usable only via Parameter Store.
No other function, and no other parameter of the stage, is granted anything: a staging function can
never read a production secret, since the names live under the stage's own path. Each also gets
`dynamodb:GetItem` on the checkpoints table's `secret-pin` partition only (`dynamodb:LeadingKeys`):
the version an operator rotated to (`cutover secrets rotate`, `cutover/secret_pins.py`) is read there.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from cutover.secret_pins import PIN_PK
from infra.config import StageConfig
from infra.constructs.refs import parameter_arn
from infra.nag import acknowledge, env_text

SECRET_ACTIONS = ("ssm:GetParameter",)  # read_pinned: GetParameter(Name="name:version", WithDecryption=True)
DECRYPT_ACTIONS = ("kms:Decrypt",)
PIN_ACTIONS = ("dynamodb:GetItem",)  # PinStore.pin: GetItem(pk=secret-pin, sk=<secret>, ConsistentRead)


def secret_parameter_names(config: StageConfig) -> list[str]:
    """The SSM parameter names of the definition's secrets for this stage (empty: none declared)."""
    return [secret.parameter_name(config.service, config.stage) for secret in config.migration.secrets]


def grant_transform_secrets(function: lambda_.Function, config: StageConfig) -> None:
    """Grant `function` (one that transforms) each declared secret, and nothing else."""
    names = secret_parameter_names(config)
    if not names:
        return
    stack = Stack.of(function)
    iam.Grant.add_to_principal(
        grantee=function,
        actions=list(SECRET_ACTIONS),
        resource_arns=[parameter_arn(function, name) for name in names],
    )
    checkpoints = stack.format_arn(service="dynamodb", resource="table", resource_name=config.names.checkpoints_table)
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=list(PIN_ACTIONS),
            resources=[checkpoints],
            conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [PIN_PK]}},
        )
    )
    keys = stack.format_arn(service="kms", resource="key", resource_name="*")
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=list(DECRYPT_ACTIONS),
            resources=[keys],
            conditions={"StringEquals": {"kms:ViaService": f"ssm.{stack.region}.amazonaws.com"}},
        )
    )
    region, account = env_text(function)
    acknowledge(
        function,
        f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:{region}:{account}:key/*]",
        "kms:Decrypt of the migration's SecureString secrets only through Parameter Store (kms:ViaService): "
        "the parameter's key (aws/ssm or the team's own) is unknown at synth; the parameters are granted exactly.",
    )
