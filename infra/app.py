"""The CDK app: `python -m infra.app` (what cdk.json runs) or `build_app(context)` in tests.

Per stage: `<service>-<stage>-stateful`, `-replication`, `-api` (+ `-network` with vpc=true). The
migration definition (`-c migration=module:attribute`, default CUTOVER_MIGRATION, [tool.cutover],
else the seed) is read once, in `StageConfig.from_context`; the `-api` stack is the seed's example
application and is only built for the seed or with `-c api=true` (infra/stacks/api.py).
Tags go on everything; cdk-nag AwsSolutions runs as a CDK policy-validation plugin (cdk-nag 3.x
form) so an unacknowledged finding fails `cdk synth`; outside the development class the RetentionCheck plugin
(infra/retention.py) fails synth if a synthesized template could delete state.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# Before aws_cdk loads jsii: the Node 20 end-of-life banner would bury a config error.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
from aws_cdk import App, Environment, Stack, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from cutover.errors import CutoverError
from infra.config import StageConfig
from infra.constructs.network import Network, NetworkStack
from infra.retention import RetentionCheck
from infra.stacks.api import ApiStack
from infra.stacks.replication import ReplicationStack
from infra.stacks.stateful import StatefulStack


def build_stacks(app: App, config: StageConfig) -> dict[str, Stack]:
    """Add one stage's stacks to `app`; return them by role."""
    env = Environment(account=config.account, region=config.region) if (config.account or config.region) else None
    prefix = config.names.prefix
    stacks: dict[str, Stack] = {}
    placement = None
    if config.vpc:
        network_stack = NetworkStack(
            app, f"{prefix}-network", env=env, description="cutover: optional VPC for the Lambdas"
        )
        placement = Network(network_stack, "Network").placement
        stacks["network"] = network_stack
    stacks["stateful"] = StatefulStack(
        app,
        f"{prefix}-stateful",
        config=config,
        env=env,
        description="cutover: v3 + own tables, flag, backups, legacy checks",
    )
    stacks["replication"] = ReplicationStack(
        app,
        f"{prefix}-replication",
        config=config,
        placement=placement,
        env=env,
        description="cutover: replicator, distributed backfill, alarms",
    )
    if config.api:
        stacks["api"] = ApiStack(
            app,
            f"{prefix}-api",
            config=config,
            placement=placement,
            env=env,
            description="cutover: REST API (IAM auth) over legacy/v3 by read-source flag",
        )
    for role in ("replication", "api"):
        if role in stacks:
            stacks[role].add_stack_dependency(stacks["stateful"], "reads tables and the flag by name")
    if "api" in stacks:
        stacks["api"].add_stack_dependency(stacks["replication"], "its alarms notify the replication stack's topic")
    for stack in stacks.values():
        for key, value in (
            ("Service", config.service),
            ("Stage", config.stage),
            ("CostCenter", config.cost_center),
            ("DataClassification", config.data_classification),
        ):
            Tags.of(stack).add(key, value)
    return stacks


def build_app(context: dict[str, Any] | None = None, outdir: str | None = None) -> tuple[App, dict[str, Stack]]:
    """App with context (tests pass it; the CLI passes cdk.json + -c values through the environment)."""
    app = App(context=context, outdir=outdir) if context is not None else App(outdir=outdir)
    config = StageConfig.from_context(app.node.try_get_context)
    stacks = build_stacks(app, config)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
    if config.retain:
        Validations.of(app).add_plugins(RetentionCheck(config.stage))
    return app, stacks


def main() -> None:
    """Entry point for cdk.json: a bad context value prints one line naming it, exit 2."""
    try:
        app, _ = build_app()
        app.synth()
    except CutoverError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(error.exit_code) from None


if __name__ == "__main__":
    main()
