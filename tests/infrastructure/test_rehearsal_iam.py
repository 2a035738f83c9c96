"""The rehearsal's IAM checker (cutover_cli/rehearsal): a policy read from the synthesized
template allows exactly what AWS would allow it, and a handler run under its own function's
synthesized policy and environment fails where AWS would fail it.

moto does not do this: its IAM enforcement checks actions only (Resource and Condition are a
TODO there), so a table-scoped grant never matches. AWS's evaluation: an explicit Deny wins, else
a matching Allow, else denied
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from cutover.codec import to_ddb
from cutover_cli.rehearsal.calls import calls_of
from cutover_cli.rehearsal.enforce import enforced
from cutover_cli.rehearsal.policy import Policy, Resolver, Statement, function_policy

ACCOUNT, REGION = "222222222222", "eu-west-1"  # the runbook's staging account (staging@env)
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/my-service-staging-users-v3"


def policy(*statements: Statement) -> Policy:
    return Policy("TestRole", statements)


def allowed(p: Policy, prefix: str, operation: str, **params) -> bool:
    return all(p.allows(c.action, r) for c in calls_of(prefix, operation, params, ACCOUNT, REGION) for r in c.resources)


def test_a_table_scoped_grant_allows_that_table_and_action_only():
    p = policy(Statement("Allow", ("dynamodb:GetItem", "dynamodb:PutItem"), (TABLE,)))
    assert allowed(p, "dynamodb", "PutItem", TableName="my-service-staging-users-v3")
    assert allowed(p, "dynamodb", "GetItem", TableName=TABLE)  # an ARN as TableName is the same resource
    assert not allowed(p, "dynamodb", "DeleteItem", TableName="my-service-staging-users-v3")
    assert not allowed(p, "dynamodb", "PutItem", TableName="my-service-prod-users-v3")
    # an index is its own resource: a table grant does not cover a Query on it
    assert not allowed(p, "dynamodb", "GetItem", TableName="my-service-staging-users-v3", IndexName="EmailLookupIndex")
    # a batch needs the action on every table it names
    both = {"my-service-staging-users-v3": {}, "other": {}}
    assert not allowed(p, "dynamodb", "BatchGetItem", RequestItems=both)


def test_wildcards_case_and_an_explicit_deny():
    p = policy(
        Statement("Allow", ("DynamoDB:Get*",), (f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/my-service-staging-*",)),
        Statement("Deny", ("dynamodb:GetItem",), (f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/*-secret",)),
    )
    assert allowed(p, "dynamodb", "GetItem", TableName="my-service-staging-reports")
    assert not allowed(p, "dynamodb", "GetItem", TableName="my-service-staging-secret")  # the Deny wins
    assert not allowed(p, "dynamodb", "Scan", TableName="my-service-staging-reports")


def test_parameters_by_path_and_version_queues_and_a_resource_no_resolver_knew():
    param = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/my-service/staging/cutover/*"
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:my-service-staging-users-failures"
    p = policy(Statement("Allow", ("ssm:GetParameter",), (param,)), Statement("Allow", ("sqs:SendMessage",), (queue,)))
    assert allowed(p, "ssm", "GetParameter", Name="/my-service/staging/cutover/read-source")
    assert allowed(p, "ssm", "GetParameter", Name="/my-service/staging/cutover/key:3")  # a version of it
    assert not allowed(p, "ssm", "GetParameter", Name="/my-service/prod/cutover/read-source")
    url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/my-service-staging-users-failures"
    assert allowed(p, "sqs", "SendMessage", QueueUrl=url)
    assert not allowed(p, "sqs", "DeleteMessage", QueueUrl=url)
    # a token the resolver could not turn into an ARN matches nothing (fail closed, and reported)
    resolve = Resolver(ACCOUNT, REGION)
    doc = {"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": {"Fn::GetAtt": ["Gone", "Arn"]}}]}
    template = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Handler": "h", "Role": {"Fn::GetAtt": ["R", "Arn"]}},
            },
            "R": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": doc}]}},
        }
    }
    closed = function_policy(template, "h", resolve)
    assert closed.unresolved and not closed.allows("sqs:SendMessage", queue)


SEGMENT = "backfill.segment_lambda.lambda_handler"


def synthesized_function(template: dict, handler: str) -> dict:
    (found,) = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == handler
    ]
    return found


@pytest.fixture
def deployed(synth_stage, monkeypatch):
    """Callable handler -> its policy: the staging function with that handler as synthesized, its
    environment (resolved) set on this process (each call: the function about to be invoked), the
    tables created in moto under those names at the first call, one good and one bad legacy user."""
    template = synth_stage("staging@env").templates["replication"]
    resolve = Resolver.for_template(template, ACCOUNT, REGION)
    with mock_aws():
        import boto3

        from cutover.names import Names

        monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
        ddb = boto3.client("dynamodb", region_name=REGION)

        def deploy(handler: str) -> Policy:
            env = {
                k: resolve(v) for k, v in synthesized_function(template, handler)["Environment"]["Variables"].items()
            }
            for key, value in env.items():
                monkeypatch.setenv(key, value)
            if not ddb.list_tables()["TableNames"]:
                legacy = json.loads(env["SOURCE_TABLES"])
                names = Names(env["SERVICE"], env["STAGE"], legacy=tuple(legacy.items()))
                for spec in names.all_specs():
                    ddb.create_table(**spec.create_table_kwargs())
                ddb.put_item(TableName=legacy["users"], Item=to_ddb({"userId": "u1", "email": "ann@example.com"}))
                ddb.put_item(TableName=legacy["users"], Item=to_ddb({"userId": "bad1", "email": 42}))
            return function_policy(template, handler, resolve)

        yield deploy


@pytest.fixture
def segment_world(deployed):
    import backfill.segment_lambda as lam

    lam.cold_start.reset()
    yield lam, deployed(SEGMENT)
    lam.cold_start.reset()


EVENT = {"table": "users", "segment": 0, "segments": 1, "run_id": "rehearsal", "rate": None}


def test_the_backfill_segment_runs_under_its_own_synthesized_policy(segment_world):
    from tests.unit.test_backfill_lambda import FakeContext

    lam, segment_policy = segment_world
    # When the segment Lambda copies the users, quarantining the bad one after its re-read
    with enforced(segment_policy, ACCOUNT, REGION) as denials:
        out = lam.lambda_handler(EVENT, FakeContext(900_000))
    # Then every call it made was granted
    assert denials.seen == [] and out["done"] and out["counts"]["quarantined"] == 1 and out["counts"]["written"] == 1
    assert ("dynamodb:GetItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/legacy-staging-users") in denials.checked


def test_without_getitem_on_the_legacy_table_the_re_read_is_denied_as_on_aws(segment_world):
    from tests.unit.test_backfill_lambda import FakeContext

    lam, segment_policy = segment_world
    # Given the grant issue 20's first major found missing (the re-read before quarantining)
    broken = segment_policy.without("dynamodb:GetItem", ":table/legacy-staging-")
    # When the segment meets the bad item, Then the call fails as AWS fails it, naming action and table
    with enforced(broken, ACCOUNT, REGION) as denials, pytest.raises(ClientError) as error:
        lam.lambda_handler(EVENT, FakeContext(900_000))
    assert error.value.response["Error"]["Code"] == "AccessDeniedException"
    assert denials.seen == [("dynamodb:GetItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/legacy-staging-users")]
    assert "is not authorized to perform: dynamodb:GetItem" in str(error.value)


def test_the_replicator_applies_a_stream_event_as_lambda_delivers_it_under_its_own_policy(deployed):
    from replicator import handler
    from tests.integration.test_replicator_events import EVENT_FILE, FakeContext

    # Given the recorded Lambda event, from the staging legacy tables' streams
    text = EVENT_FILE.read_text().replace(
        "arn:aws:dynamodb:us-east-1:123456789012:table/my-service-dev-",
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/legacy-staging-",
    )
    replicator_policy = deployed("replicator.handler.lambda_handler")
    handler.cold_start.reset()
    try:
        # When the replicator handles it with its synthesized environment and policy
        with enforced(replicator_policy, ACCOUNT, REGION) as denials:
            response = handler.lambda_handler(json.loads(text.replace("us-east-1", REGION)), FakeContext())
    finally:
        if handler.cold_start.built is not None:
            handler.cold_start.built.close()
        handler.cold_start.reset()
    # Then every record applied and every call it made was granted, the guarded puts among them
    assert denials.seen == [] and response == {"batchItemFailures": []}
    assert ("dynamodb:PutItem", TABLE) in denials.checked


class Steps:
    """Lambda entry points invoked one at a time as a state machine would, each cold, under its own
    function's synthesized policy (`policy_of(handler)`, which also sets its environment); collects
    every call checked and denied."""

    def __init__(self, policy_of) -> None:
        self.policy_of, self.checked, self.denied = policy_of, [], []

    def __call__(self, module, event: dict) -> dict:
        from tests.unit.test_backfill_lambda import FakeContext

        policy = self.policy_of(f"{module.__name__}.lambda_handler")
        module.cold_start.reset()
        with enforced(policy, ACCOUNT, REGION) as denials:
            try:
                return module.lambda_handler(event, FakeContext(900_000))
            finally:
                self.checked.extend(denials.checked)
                self.denied.extend(denials.seen)
                module.cold_start.reset()

    def reconcile(self, options: dict) -> dict:
        """Begin, every part x segment until done, then Merge: the reconcile machine's steps."""
        import reconciler.merge as run_lambda
        import reconciler.segment_lambda as segment_lambda

        for item in self(run_lambda, {"step": "begin", **options})["items"]:
            while not self(segment_lambda, {**options, **item})["done"]:
                pass
        return self(run_lambda, {"step": "merge", "run_id": options["run_id"]})


def test_a_reconcile_run_with_repair_runs_each_step_under_its_own_functions_policy(deployed):
    """Begin and Merge (the run function) and every part x segment (the segment function), as the
    machine invokes them, each with its own function's environment and policy."""
    steps = Steps(deployed)
    merged = steps.reconcile({"run_id": "rehearsal-1", "segments": 2, "sample": None, "repair": True})
    # Then no step made a call its function is not granted, the repair among them
    assert steps.denied == [], steps.denied
    assert ("dynamodb:PutItem", TABLE) in steps.checked and merged["run_id"] == "rehearsal-1"
