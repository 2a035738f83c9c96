"""Deploy-time action: create the read-source flag if it is absent; never change or delete it.

Why not an AWS::SSM::Parameter: CloudFormation would own the value `legacy`, every `cutover flip`
would be drift, and any update or replacement of that resource would write `legacy` back (or
delete the parameter), silently undoing a cut-over. Here a deploy only ever creates the flag
(PutParameter with Overwrite=false); an existing value, whatever it is, is left exactly as is.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)


def ensure(client: Any, name: str, initial: str, description: str) -> str:
    """Create `name` = `initial` unless it exists; return 'created' or 'kept'. Never overwrites."""
    try:
        client.put_parameter(Name=name, Value=initial, Type="String", Overwrite=False, Description=description)
    except client.exceptions.ParameterAlreadyExists:
        return "kept"
    return "created"


def on_event(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    """Create/Update: ensure the flag exists. Delete: keep it (the flag outlives any stack)."""
    props = event.get("ResourceProperties", {})
    name = props.get("Name") or event.get("PhysicalResourceId", "read-source-flag")
    if event["RequestType"] == "Delete":
        LOG.info(
            json.dumps({"audit": "read-source-flag", "name": name, "action": "kept (stack delete never deletes it)"})
        )
        return {"PhysicalResourceId": event.get("PhysicalResourceId", name)}
    outcome = ensure(boto3.client("ssm"), name, props["InitialValue"], props.get("Description", ""))
    LOG.info(json.dumps({"audit": "read-source-flag", "name": name, "action": outcome}))
    return {"PhysicalResourceId": name}
