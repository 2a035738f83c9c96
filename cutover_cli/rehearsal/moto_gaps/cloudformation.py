"""Where moto's CloudFormation (5.2) deploys the synthesized stacks differently from AWS, and the
narrowest patch that makes it behave as AWS documents. `applied()` installs them all in this
process for a block (the rehearsal runs moto's server in a thread of it, so the server sees them).

Each gap: what moto does, what AWS does (the page), the patch. tests/integration/
test_moto_gaps_cloudformation.py pins each one through the CloudFormation API.

1. Custom resources. moto invokes the ServiceToken function in a thread through its Docker Lambda
   runner and never reads a FAILED response, so without Docker the stack stays
   CREATE_IN_PROGRESS forever, and with it a failing handler still leaves it there. AWS waits for
   the provider's response and fails the resource with its reason
   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html).
   Patch: `CustomModel.create_from_cloudformation_json` runs the CDK Provider framework's job
   itself: the framework function's `USER_ON_EVENT_FUNCTION_ARN` names the Python function, whose
   deployed zip runs in a child process (`handler_process`) with its configured environment;
   its PhysicalResourceId and Data become the resource's, a raise fails the resource.
2. A resource that fails. moto lets the exception escape CreateStack (the client sees an
   internal error, the stack stays CREATE_IN_PROGRESS, no event names the resource). AWS
   records CREATE_FAILED with the reason on the resource, rolls back (deleting what it created
   but Retain resources) and ends in ROLLBACK_COMPLETE
   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-describing-stacks.html).
   Patch: `parse_and_create_resource` names the failing resource, `Stack.create_resources`
   records the events and rolls back.
3. AWS::SSM::Parameter Tags are a JSON object (key -> value) in a template
   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ssm-parameter.html);
   moto passes them on as the API's list of Key/Value and fails on a map. Patch: convert.
4. AWS::KMS::Key Tags are a list of Key/Value in a template
   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-kms-key.html);
   moto hands them to its tagger, which wants the KMS API's TagKey/TagValue, and fails. Patch:
   convert.
5. Public parameters. AWS publishes the Powertools layer's ARN under
   /aws/service/powertools/... (https://docs.powertools.aws.dev/lambda/python/latest/#lambda-layer),
   which the templates resolve as an SSM parameter type; moto knows a few /aws/service trees and
   refuses to let anyone write one (as AWS does). `publish_public_parameter` writes it into
   moto's store directly; the rehearsal points it at a stand-in layer of the same name.

Resources of a type moto does not emulate (AWS Backup) are skipped by moto with a warning;
`unemulated_types` lists them so the report says so instead of counting them as deployed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

_LOCK = threading.Lock()
_ORIGINALS: list[tuple[Any, str, Any]] = []  # (owner, attribute, moto's own value), to restore
FRAMEWORK_TARGET = "USER_ON_EVENT_FUNCTION_ARN"  # how the CDK Provider framework names the user's function

# How a child process reaches the backend: set by the rehearsal before deploying (`configure`).
_RUNTIME: dict[str, str] = {}


class ResourceFailed(Exception):
    """A resource CloudFormation could not create, with the reason AWS would record."""

    def __init__(self, logical_id: str, resource_type: str, reason: str) -> None:
        super().__init__(f"{logical_id} ({resource_type}): {reason}")
        self.logical_id, self.resource_type, self.reason = logical_id, resource_type, reason


def configure(*, endpoint_url: str, region: str, access_key: str = "rehearsal", secret_key: str = "rehearsal") -> None:
    """The AWS runtime variables a custom resource's handler gets (its backend and credentials)."""
    _RUNTIME.clear()
    _RUNTIME.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        }
    )


def _set(owner: Any, attribute: str, value: Any) -> None:
    _ORIGINALS.append((owner, attribute, vars(owner)[attribute]))
    setattr(owner, attribute, value)


@contextmanager
def applied() -> Iterator[None]:
    """Every patch below installed for the block, moto's own behaviour back after it (so a test
    session's other moto users never see them). Not re-entrant."""
    with _LOCK:
        if _ORIGINALS:
            raise RuntimeError("the CloudFormation moto gaps are already applied")
        _patch_custom_resources()
        _patch_failures()
        _patch_tags()
    try:
        yield
    finally:
        with _LOCK:
            while _ORIGINALS:
                owner, attribute, value = _ORIGINALS.pop()
                setattr(owner, attribute, value)


# --- 1. custom resources ------------------------------------------------------------------------
def _patch_custom_resources() -> None:
    from moto.cloudformation import custom_model

    def create(
        cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kw: Any
    ) -> Any:
        from moto.awslambda.utils import get_backend
        from moto.cloudformation import cloudformation_backends
        from moto.moto_api._internal import mock_random

        logical_id, resource_type = kw["LogicalId"], kw["ResourceType"]
        properties = cloudformation_json["Properties"]
        lambdas = get_backend(account_id, region_name)
        target = provider_target(lambdas, properties["ServiceToken"])
        request_id = str(mock_random.uuid4())
        event = {
            "RequestType": "Create",
            "ServiceToken": properties["ServiceToken"],
            "ResponseURL": "",  # the framework's job, done here
            "StackId": kw["StackId"],
            "RequestId": request_id,
            "LogicalResourceId": logical_id,
            "ResourceType": resource_type,
            "ResourceProperties": properties,
        }
        answer = invoke_function(lambdas, target, event)
        if not answer.ok:
            raise ResourceFailed(
                logical_id,
                resource_type,
                f"Received response status [FAILED] from custom resource. Message returned: {answer.error} "
                f"(RequestId: {request_id})",
            )
        payload = answer.payload if isinstance(answer.payload, dict) else {}
        resource = custom_model.CustomModel(  # type: ignore[abstract]
            region_name, request_id, logical_id, str(payload.get("PhysicalResourceId") or request_id)
        )
        resource.set_data(dict(payload.get("Data") or {}))
        cloudformation_backends[account_id][region_name].get_stack(kw["StackId"]).add_custom_resource(resource)
        return resource

    _set(custom_model.CustomModel, "create_from_cloudformation_json", classmethod(create))


def provider_target(lambdas: Any, service_token: str) -> Any:
    """The function that does the work: behind a CDK Provider framework function, the user's
    on-event function it names; otherwise the ServiceToken's function itself."""
    function = lambdas.get_function(service_token)
    target = (function.environment_vars or {}).get(FRAMEWORK_TARGET)
    return lambdas.get_function(target) if target else function


def invoke_function(lambdas: Any, function: Any, event: Mapping[str, Any]) -> Any:
    """One invocation of a deployed Python function from its deployed code and layers."""
    from cutover_cli.rehearsal.handler_process import Invocation, invoke

    if not str(function.run_time or "").startswith("python"):
        return Invocation(error=f"the rehearsal runs Python functions only, not {function.run_time}")
    layers = [lambdas.layers_versions_by_arn(layer["Arn"]).code_bytes for layer in function.layers]
    return invoke(
        code_zip=function.code_bytes,
        handler=function.handler,
        event=event,
        environment=dict(function.environment_vars or {}),
        aws=dict(_RUNTIME),
        layer_zips=layers,
        timeout=float(function.timeout or 3),
    )


# --- 2. a resource that fails -------------------------------------------------------------------
def _reason(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return " ".join(str(message).split())


def _patch_failures() -> None:
    from moto.cloudformation import models, parsing

    original_create: Callable[..., Any] = parsing.parse_and_create_resource

    def parse_and_create_resource(
        logical_id: str, resource_json: dict[str, Any], resources_map: Any, account_id: str, region_name: str
    ) -> Any:
        try:
            return original_create(logical_id, resource_json, resources_map, account_id, region_name)
        except ResourceFailed:
            raise
        except Exception as error:  # any failure of moto's model is the resource's failure
            raise ResourceFailed(logical_id, resource_json.get("Type", "?"), _reason(error)) from error

    _set(parsing, "parse_and_create_resource", parse_and_create_resource)

    original_resources: Callable[[Any], None] = models.Stack.create_resources

    def create_resources(stack: Any) -> None:
        try:
            original_resources(stack)
        except ResourceFailed as failure:
            _roll_back(stack, failure)

    _set(models.Stack, "create_resources", create_resources)


def _roll_back(stack: Any, failure: ResourceFailed) -> None:
    """What AWS does after a resource fails on create: the resource's CREATE_FAILED event, then the
    stack's ROLLBACK_IN_PROGRESS, deleting what was made (moto's delete keeps Retain resources), then
    ROLLBACK_COMPLETE."""
    from moto.cloudformation.models import Event

    stack.events.append(
        Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=failure.logical_id,
            physical_resource_id="",
            resource_type=failure.resource_type,
            resource_status="CREATE_FAILED",
            resource_status_reason=failure.reason,
            resource_properties=None,
        )
    )
    stack.status = "ROLLBACK_IN_PROGRESS"
    stack._add_stack_event(
        "ROLLBACK_IN_PROGRESS",
        resource_status_reason=f"The following resource(s) failed to create: [{failure.logical_id}]. "
        "Rollback requested by user.",
    )
    try:
        stack.resource_map.delete()
    except Exception:  # noqa: BLE001 - a rollback that cannot delete leaves the resource, as on AWS
        stack.status = "ROLLBACK_FAILED"
        stack._add_stack_event("ROLLBACK_FAILED")
        return
    stack.status = "ROLLBACK_COMPLETE"
    stack._add_stack_event("ROLLBACK_COMPLETE")


# --- 3. and 4. tag shapes -----------------------------------------------------------------------
def _with_tags(cloudformation_json: Any, convert: Callable[[Any], Any]) -> Any:
    properties = dict(cloudformation_json.get("Properties") or {})
    if properties.get("Tags") is not None:
        properties["Tags"] = convert(properties["Tags"])
    return {**cloudformation_json, "Properties": properties}


def ssm_tags(tags: Any) -> list[dict[str, str]]:
    """A template's SSM parameter tags (a map) as the API's Key/Value list."""
    return [{"Key": k, "Value": str(v)} for k, v in tags.items()] if isinstance(tags, dict) else list(tags)


def kms_tags(tags: Any) -> list[dict[str, str]]:
    """A template's KMS key tags (Key/Value) as the KMS API's TagKey/TagValue."""
    return [{"TagKey": t.get("Key", t.get("TagKey")), "TagValue": t.get("Value", t.get("TagValue"))} for t in tags]


def _patch_tags() -> None:
    from moto.kms.models import Key
    from moto.ssm.models import Parameter

    for model, convert in ((Parameter, ssm_tags), (Key, kms_tags)):
        original = vars(model)["create_from_cloudformation_json"].__func__

        def create(
            cls: Any,
            name: str,
            cfn: Any,
            account_id: str,
            region: str,
            _o: Any = original,
            _c: Any = convert,
            **kw: Any,
        ) -> Any:
            return _o(cls, name, _with_tags(cfn, _c), account_id, region, **kw)

        _set(model, "create_from_cloudformation_json", classmethod(create))


# --- 5. public parameters -----------------------------------------------------------------------
def publish_public_parameter(account: str, region: str, name: str, value: str) -> None:
    """Write an AWS-published parameter (/aws/service/...) into moto's store, as AWS has it."""
    from moto.core.utils import utcnow
    from moto.ssm.models import Parameter, ssm_backends

    backend = ssm_backends[account][region]
    versions = backend._parameters[name]
    versions.append(
        Parameter(  # type: ignore[abstract]
            account_id=account,
            name=name,
            value=value,
            parameter_type="String",
            description="published by AWS (rehearsal stand-in)",
            allowed_pattern=None,
            keyid=None,
            last_modified_date=utcnow(),
            version=len(versions) + 1,
            data_type="text",
            tier="Standard",
            policies=None,
        )
    )


def unemulated_types(template: Mapping[str, Any]) -> list[str]:
    """The resource types of a template that moto's CloudFormation skips (it creates no model)."""
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map

    known = get_model_map()
    kinds = {resource.get("Type", "") for resource in template.get("Resources", {}).values()}
    return sorted(k for k in kinds if not k.startswith("Custom::") and (k in NULL_MODELS or k not in known))
