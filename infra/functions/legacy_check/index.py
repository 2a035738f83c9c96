"""Deploy-time guard: fail the CloudFormation deployment if a legacy table is not usable.

The legacy tables are imported, never managed, so CloudFormation would happily deploy a
replicator pointed at a table that does not exist or has no NEW_AND_OLD_IMAGES stream. This
custom resource (via the CDK Provider framework: raising fails the deploy) describes each table,
logs its item count and size for the audit trail, and refuses anything not ACTIVE or streamless,
and any table without point-in-time recovery or deletion protection: the tables still belong to
the Serverless Framework stack, and those two are what stand between a `serverless remove` (or a
bad script) and four years of customer data. It runs on every deploy (its properties change).

A failing check must fail the deploy, never its rollback: when an Update fails, CloudFormation
rolls back with a second Update to the same physical id carrying the OLD properties, and a check
that fails again leaves the stack UPDATE_ROLLBACK_FAILED (issue 20). So a pass is recorded in the
physical id (a digest of the properties that passed, see `passed_id`): an Update whose properties
are exactly the recorded ones is that rollback, and succeeds with a warning naming what still
fails. A passing Update answers a new id (its DeployRun is new every synth), i.e. a replacement,
so rolling it back is a Delete of the new id, and Delete never fails. Chosen over a new logical id
per synth: the resource, its diff line and its logs stay one stable resource. Only a Create or a
forward Update can fail, and a failed Create is rolled back by a Delete.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import boto3

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)


FIX = "set it in serverless.yml and `serverless deploy` (runbooks/deploy.md step 0)"


def problems_of(expected_stream_arn: str, description: dict[str, Any], pitr_status: str | None) -> list[str]:
    """Pure: what is wrong with one DescribeTable()["Table"] result and its point-in-time
    recovery status (DescribeContinuousBackups; None if unknown). Empty list = fine."""
    name = description.get("TableName", "?")
    found: list[str] = []
    if description.get("TableStatus") != "ACTIVE":
        found.append(f"table {name} is {description.get('TableStatus')}, not ACTIVE")
    if pitr_status != "ENABLED":
        found.append(f"table {name} has point-in-time recovery {pitr_status or 'unknown'}, not ENABLED: {FIX}")
    if description.get("DeletionProtectionEnabled") is not True:
        found.append(f"table {name} has deletion protection off: {FIX}")
    spec = description.get("StreamSpecification") or {}
    if not spec.get("StreamEnabled") or spec.get("StreamViewType") != "NEW_AND_OLD_IMAGES":
        # in serverless.yml, not `aws dynamodb update-table`: the next `serverless deploy` undoes drift
        found.append(f"table {name} has no NEW_AND_OLD_IMAGES stream: {FIX}")
    elif description.get("LatestStreamArn") != expected_stream_arn:
        found.append(
            f"table {name}'s current stream is {description.get('LatestStreamArn')}, "
            f"but the deploy was given {expected_stream_arn}: pass the current ARN with -c"
        )
    return found


def passed_id(properties: dict[str, Any]) -> str:
    """The physical id that records a pass with these properties (ServiceToken aside: a new
    provider does not change what was checked)."""
    checked = {key: value for key, value in properties.items() if key != "ServiceToken"}
    digest = hashlib.sha256(json.dumps(checked, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"legacy-check-{'-'.join(sorted(json.loads(properties['Tables'])))}-passed-{digest}"


def is_rollback(event: dict[str, Any]) -> bool:
    """An Update back to the properties of the last pass (recorded in the physical id), or back to a
    template from before passes were recorded (`RecordsPasses` only in OldResourceProperties: the
    first deploy of this code, whose rollback would otherwise re-check with nothing recorded)."""
    properties, old = event["ResourceProperties"], event.get("OldResourceProperties") or {}
    upgrading_back = "RecordsPasses" not in properties and "RecordsPasses" in old
    return upgrading_back or event.get("PhysicalResourceId") == passed_id(properties)


def problems_now(tables: dict[str, str]) -> list[str]:
    """Describe each table (logging its size for the audit trail) and list what is wrong."""
    client = boto3.client("dynamodb")
    problems: list[str] = []
    for name, stream_arn in tables.items():
        try:
            table = client.describe_table(TableName=name)["Table"]
        except client.exceptions.ResourceNotFoundException:
            problems.append(f"legacy table {name} does not exist in this account/region")
            continue
        LOG.info(
            json.dumps(
                {
                    "audit": "legacy-table",
                    "table": name,
                    "itemCount": table.get("ItemCount"),
                    "sizeBytes": table.get("TableSizeBytes"),
                    "status": table.get("TableStatus"),
                }
            )
        )
        backups = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        pitr = (backups.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus")
        problems += problems_of(stream_arn, table, pitr)
    return problems


def on_event(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    """Create/Update (every deploy): check every table, raise on any problem; the rollback Update
    (back to the recorded properties) and Delete: never fail."""
    if event["RequestType"] == "Delete":
        return {"PhysicalResourceId": event.get("PhysicalResourceId", "legacy-check")}
    properties = event["ResourceProperties"]
    tables: dict[str, str] = json.loads(properties["Tables"])  # name -> stream ARN
    if event["RequestType"] == "Update" and is_rollback(event):
        try:
            problems = problems_now(tables)
        except Exception as error:  # noqa: BLE001 - a rollback must not fail, whatever the cause
            problems = [f"the check itself failed: {error!r}"]
        if problems:
            LOG.warning("legacy table check: rollback to the last passed deploy, still: " + "; ".join(problems))
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    problems = problems_now(tables)
    if problems:
        raise RuntimeError("legacy table check failed: " + "; ".join(problems))
    return {"PhysicalResourceId": passed_id(properties)}
