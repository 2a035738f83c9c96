"""Deploy a synthesized cloud assembly (cdk.out) through the CloudFormation API, as `cdk deploy` does.

What the CDK CLI does for each stack, in dependency order (the assembly manifest's
`dependencies`): publish the stack's assets (folders zipped, files as they are) to the bootstrap
bucket named in `<stack>.assets.json`, then CreateStack with the template's S3 URL and the
stack's tags, then wait for a final status. A failed stack stops the deploy (later stacks depend
on it), and the failure is reported with CloudFormation's own reason, the first CREATE_FAILED
event's ResourceStatusReason, as `cdk deploy` prints it.

Nothing here knows moto: the same calls against AWS would deploy (the bootstrap, though, is what
`cdk bootstrap` would have created; `bootstrap` makes the part the templates read).
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

QUALIFIER = "hnb659fds"  # CDK's default bootstrap qualifier
BOOTSTRAP_VERSION = "30"  # what `cdk bootstrap` writes today; the templates' rule needs >= 6
BOOTSTRAP_VERSION_PARAMETER = f"/cdk-bootstrap/{QUALIFIER}/version"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
DONE = ("CREATE_COMPLETE",)
IN_PROGRESS_SUFFIX = "_IN_PROGRESS"


@dataclass(frozen=True)
class StackResult:
    """One stack's deploy: its final status, resource count, outputs and physical ids (logical id ->
    physical id, what a run of the deployed system looks its functions and machines up by), or the
    reason CloudFormation gave for failing it."""

    name: str
    status: str
    resources: int = 0
    reason: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    physical_ids: dict[str, str] = field(default_factory=dict)
    resource_types: dict[str, str] = field(default_factory=dict)  # logical id -> AWS type

    @property
    def ok(self) -> bool:
        return self.status in DONE


def bucket_name(account: str, region: str) -> str:
    return f"cdk-{QUALIFIER}-assets-{account}-{region}"


def bootstrap(clients: Any, account: str, region: str) -> None:
    """What the templates need of `cdk bootstrap`: the assets bucket and the version parameter."""
    s3 = clients.client("s3")
    name = bucket_name(account, region)
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":  # S3's rule: us-east-1 takes no LocationConstraint
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**kwargs)
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        pass
    clients.client("ssm").put_parameter(
        Name=BOOTSTRAP_VERSION_PARAMETER, Value=BOOTSTRAP_VERSION, Type="String", Overwrite=True
    )


def stack_order(manifest: Mapping[str, Any]) -> list[str]:
    """The assembly's stacks, each after the stacks it depends on (as `cdk deploy --all` orders
    them). Pure; raises ValueError on a cycle, which `cdk synth` would have refused already."""
    artifacts = manifest.get("artifacts", {})
    stacks = {name for name, a in artifacts.items() if a.get("type") == "aws:cloudformation:stack"}
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            raise ValueError(f"stack dependency cycle through {name}")
        visiting.add(name)
        for dependency in artifacts[name].get("dependencies", []):
            if dependency in stacks:
                visit(dependency)
        visiting.discard(name)
        order.append(name)

    for name in sorted(stacks):
        visit(name)
    return order


def _substitute(text: str, account: str, region: str) -> str:
    for key, value in (("${AWS::AccountId}", account), ("${AWS::Region}", region), ("${AWS::Partition}", "aws")):
        text = text.replace(key, value)
    return text


def zip_folder(folder: Path) -> bytes:
    """A folder as the CDK CLI zips an asset: every file, relative paths, fixed timestamps (so the
    same folder gives the same bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = (os.stat(path).st_mode & 0o777) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def publish_assets(clients: Any, assembly: Path, asset_manifest: str, account: str, region: str) -> int:
    """Upload one stack's file assets (`<stack>.assets.json`) to their destinations. Returns how many."""
    s3 = clients.client("s3")
    files = json.loads((assembly / asset_manifest).read_text()).get("files", {})
    for asset in files.values():
        source = assembly / asset["source"]["path"]
        body = zip_folder(source) if asset["source"].get("packaging") == "zip" else source.read_bytes()
        for destination in asset["destinations"].values():
            s3.put_object(
                Bucket=_substitute(destination["bucketName"], account, region),
                Key=_substitute(destination["objectKey"], account, region),
                Body=body,
            )
    return len(files)


def deploy_assembly(
    clients: Any,
    assembly: Path,
    account: str,
    region: str,
    *,
    wait_seconds: float = 300.0,
    progress: Callable[[str], None] | None = None,
) -> list[StackResult]:
    """Deploy every stack of the assembly in dependency order; stop at the first that fails (its
    result is the last one). `progress` hears the name of each stack as it starts."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    artifacts = manifest["artifacts"]
    results: list[StackResult] = []
    for name in stack_order(manifest):
        artifact = artifacts[name]
        for dependency in artifact.get("dependencies", []):
            if artifacts.get(dependency, {}).get("type") == "cdk:asset-manifest":
                publish_assets(clients, assembly, artifacts[dependency]["properties"]["file"], account, region)
        if progress is not None:
            progress(f"deploying {name}")
        result = deploy_stack(clients, name, artifact["properties"], account, region, wait_seconds)
        results.append(result)
        if not result.ok:
            break
    return results


def template_url(properties: Mapping[str, Any], account: str, region: str) -> str:
    """The stack's template in the bootstrap bucket, as an HTTPS URL (what CreateStack takes)."""
    s3_url = _substitute(properties["stackTemplateAssetObjectUrl"], account, region)
    bucket, _, key = s3_url.removeprefix("s3://").partition("/")
    return f"https://s3.{region}.amazonaws.com/{bucket}/{key}"


def deploy_stack(
    clients: Any, name: str, properties: Mapping[str, Any], account: str, region: str, wait_seconds: float
) -> StackResult:
    """CreateStack, wait for a final status, and read back what was made (or why it failed)."""
    cfn = clients.client("cloudformation")
    tags = [{"Key": k, "Value": v} for k, v in sorted((properties.get("tags") or {}).items())]
    try:
        cfn.create_stack(
            StackName=name,
            TemplateURL=template_url(properties, account, region),
            Capabilities=CAPABILITIES,
            Tags=tags,
        )
    except cfn.exceptions.ClientError as error:  # refused before it started: no events to read
        return StackResult(name, "NOT_CREATED", reason=str(error))
    stack = _wait(cfn, name, wait_seconds)
    status = stack["StackStatus"]
    if status not in DONE:
        return StackResult(name, status, reason=first_failure(cfn, name) or stack.get("StackStatusReason"))
    pages = cfn.get_paginator("list_stack_resources").paginate(StackName=name)
    summaries = [s for page in pages for s in page["StackResourceSummaries"]]
    return StackResult(
        name,
        status,
        resources=len(summaries),
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        physical_ids={s["LogicalResourceId"]: s.get("PhysicalResourceId", "") for s in summaries},
        resource_types={s["LogicalResourceId"]: s["ResourceType"] for s in summaries},
    )


def _wait(cfn: Any, name: str, seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        stack: dict[str, Any] = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith(IN_PROGRESS_SUFFIX) or time.monotonic() > deadline:
            return stack
        time.sleep(0.5)


def first_failure(cfn: Any, name: str) -> str | None:
    """The first resource failure of the stack's last operation, `LogicalId (Type): reason`, as
    `cdk deploy` reports it. Events come newest first."""
    pages = cfn.get_paginator("describe_stack_events").paginate(StackName=name)
    events = [e for page in pages for e in page["StackEvents"]]
    for event in reversed(events):
        if event.get("ResourceStatus", "").endswith("_FAILED") and event.get("ResourceType") != (
            "AWS::CloudFormation::Stack"
        ):
            reason = event.get("ResourceStatusReason") or "no reason given"
            return f"{event['LogicalResourceId']} ({event['ResourceType']}): {reason}"
    return None
