"""Deploy-time guard: fail the CloudFormation deployment if a legacy table is not usable.

The legacy tables are imported, never managed, so CloudFormation would happily deploy a
replicator pointed at a table that does not exist or has no NEW_AND_OLD_IMAGES stream. This
custom resource (via the CDK Provider framework: raising fails the deploy) describes each table,
logs its item count and size for the audit trail, and refuses anything not ACTIVE or streamless,
and any table without point-in-time recovery or deletion protection: the tables still belong to
the Serverless Framework stack, and those two are what stand between a `serverless remove` (or a
bad script) and four years of customer data. It runs on every deploy (its properties change).
"""

from __future__ import annotations

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
        found.append(
            f"table {name} has no NEW_AND_OLD_IMAGES stream (enable it: "
            f"aws dynamodb update-table --table-name {name} --stream-specification "
            "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES)"
        )
    elif description.get("LatestStreamArn") != expected_stream_arn:
        found.append(
            f"table {name}'s current stream is {description.get('LatestStreamArn')}, "
            f"but the deploy was given {expected_stream_arn}: pass the current ARN with -c"
        )
    return found


def on_event(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    """CloudFormation Create/Update (every deploy): check every table; Delete: nothing to undo."""
    if event["RequestType"] == "Delete":
        return {"PhysicalResourceId": event.get("PhysicalResourceId", "legacy-check")}
    tables: dict[str, str] = json.loads(event["ResourceProperties"]["Tables"])  # name -> stream ARN
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
    if problems:
        raise RuntimeError("legacy table check failed: " + "; ".join(problems))
    return {"PhysicalResourceId": "legacy-check-" + "-".join(sorted(tables))}
