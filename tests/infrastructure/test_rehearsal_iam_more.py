"""The rehearsal's IAM checks (cutover_cli/rehearsal) for the functions test_rehearsal_iam.py does
not run: the catalog migration's backfill segment and replicator (a transform secret read from SSM
at its pinned version, its pin record in the checkpoints table), the API function, and the
legacy-check custom resource. Each runs under its own synthesized policy and environment; every
call must be granted, as on AWS.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from moto import mock_aws

from cutover.codec import to_ddb
from cutover.names import READ_SOURCES
from cutover_cli.rehearsal.enforce import enforced
from cutover_cli.rehearsal.policy import Policy, Resolver, function_policy
from infra.stacks.api import HANDLER
from tests.infrastructure.test_rehearsal_iam import ACCOUNT, REGION, Steps, synthesized_function

Deploy = Callable[[str], Policy]
REVIEWER_KEY = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/my-service/staging/cutover/secrets/reviewer-key"
CATALOG = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/my-service-staging-catalog"
API_TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/my-service-staging-cutover-api"
PIN_READ = ("dynamodb:GetItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/my-service-staging-cutover-checkpoints")


def segment_event(table: str) -> dict:
    return {"table": table, "segment": 0, "segments": 1, "run_id": "rehearsal", "rate": None}


def _deployer(template: dict, monkeypatch: pytest.MonkeyPatch, world: Callable[[dict], None]) -> Deploy:
    """handler -> its policy, its resolved environment set on this process; `world(env)` once."""
    resolve = Resolver.for_template(template, ACCOUNT, REGION)
    made: list[bool] = []

    def deploy(handler: str) -> Policy:
        env = {k: resolve(v) for k, v in synthesized_function(template, handler)["Environment"]["Variables"].items()}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        if not made:
            world(env)
            made.append(True)
        return function_policy(template, handler, resolve)

    return deploy


@pytest.fixture
def catalog_deployed(synth_stage, monkeypatch) -> Iterator[Deploy]:
    """The staging catalog migration's functions; its tables in moto, one product and one review
    in the legacy tables, the reviewer key in SSM as a SecureString at its pinned version (1)."""
    template = synth_stage("staging@env+catalog").templates["replication"]
    with mock_aws():
        import boto3

        from cutover.names import Names

        monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
        ddb = boto3.client("dynamodb", region_name=REGION)

        def world(env: dict) -> None:
            legacy = json.loads(env["SOURCE_TABLES"])
            names = Names(env["SERVICE"], env["STAGE"], legacy=tuple(legacy.items()))
            for secret in names.migration.secrets:
                boto3.client("ssm", region_name=REGION).put_parameter(
                    Name=secret.parameter_name(names.service, names.stage), Value="k", Type="SecureString"
                )
            for spec in names.all_specs():
                ddb.create_table(**spec.create_table_kwargs())
            item = {"sku": "p1", "name": "P", "price": 3, "category": "books"}
            ddb.put_item(TableName=legacy["products"], Item=to_ddb(item))
            review = {"productId": "p1", "reviewId": "r1", "status": "PUBLISHED", "rating": 4, "reviewerEmail": "a@b.c"}
            ddb.put_item(TableName=legacy["reviews"], Item=to_ddb(review))

        yield _deployer(template, monkeypatch, world)


def test_the_catalog_backfill_segment_reads_its_secret_and_pin_under_its_own_policy(catalog_deployed):
    import backfill.segment_lambda as lam
    from tests.unit.test_backfill_lambda import FakeContext

    # Given the catalog's segment function as synthesized for staging
    segment_policy = catalog_deployed("backfill.segment_lambda.lambda_handler")
    lam.cold_start.reset()
    try:
        # When it copies each legacy table (the reviews' transform needs the pinned reviewer key)
        with enforced(segment_policy, ACCOUNT, REGION) as denials:
            outs = [lam.lambda_handler(segment_event(t), FakeContext(900_000)) for t in ("products", "reviews")]
    finally:
        lam.cold_start.reset()
    # Then every call was granted, the secret's GetParameter among them
    assert denials.seen == [] and all(o["done"] for o in outs)
    assert [o["counts"]["written"] for o in outs] == [2, 1]
    assert ("ssm:GetParameter", REVIEWER_KEY) in denials.checked and PIN_READ in denials.checked


def test_without_the_secret_grant_the_catalog_segment_fails_naming_the_secret(catalog_deployed):
    import backfill.segment_lambda as lam
    from cutover.errors import ConfigError
    from tests.unit.test_backfill_lambda import FakeContext

    # Given the segment's policy without its GetParameter on the reviewer key
    broken = catalog_deployed("backfill.segment_lambda.lambda_handler").without("ssm:GetParameter", "reviewer-key")
    lam.cold_start.reset()
    try:
        # When it copies the reviews, Then it fails at the secret as AWS would deny it
        with enforced(broken, ACCOUNT, REGION) as denials, pytest.raises(ConfigError, match="reviewer-key"):
            lam.lambda_handler(segment_event("reviews"), FakeContext(900_000))
    finally:
        lam.cold_start.reset()
    assert denials.seen == [("ssm:GetParameter", REVIEWER_KEY)]


def test_the_catalog_replicator_applies_a_review_insert_under_its_own_policy(catalog_deployed):
    from replicator import handler
    from tests.integration.test_replicator_events import FakeContext

    # Given a review INSERT as Lambda delivers it from the staging legacy reviews table's stream
    replicator_policy = catalog_deployed("replicator.handler.lambda_handler")
    image = {"productId": {"S": "p2"}, "reviewId": {"S": "r9"}, "status": {"S": "PENDING"}, "rating": {"N": "5"}}
    stream = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/legacy-staging-reviews/stream/2015-06-27T00:49:12.103"
    record = {
        "eventID": "1",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": {
            "ApproximateCreationDateTime": 1767323045,  # fixed-date: a recorded event's time
            "Keys": {k: image[k] for k in ("productId", "reviewId")},
            "NewImage": image,
            "SequenceNumber": "400000000000000000001",
            "SizeBytes": 60,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": stream,
    }
    handler.cold_start.reset()
    try:
        # When the replicator handles it with its synthesized environment and policy
        with enforced(replicator_policy, ACCOUNT, REGION) as denials:
            response = handler.lambda_handler({"Records": [record]}, FakeContext())
    finally:
        if handler.cold_start.built is not None:
            handler.cold_start.built.close()
        handler.cold_start.reset()
    # Then it applied and every call was granted, the secret's GetParameter among them
    assert denials.seen == [] and response == {"batchItemFailures": []}
    assert ("ssm:GetParameter", REVIEWER_KEY) in denials.checked and PIN_READ in denials.checked
    assert ("dynamodb:PutItem", CATALOG) in denials.checked


def test_a_catalog_reconcile_with_repair_runs_each_step_under_its_own_functions_policy(catalog_deployed):
    """Begin, each part x segment and Merge, as the machine invokes them; the target starts empty,
    so the repair writes every target item (the reviews' with the pinned key)."""
    # When a reconcile run with repair goes through every step
    steps = Steps(catalog_deployed)
    merged = steps.reconcile({"run_id": "rehearsal-1", "segments": 1, "sample": None, "repair": True})
    # Then no step made a call its function is not granted, the repair and the secret's read among them
    assert steps.denied == [], steps.denied
    assert ("dynamodb:PutItem", CATALOG) in steps.checked and ("ssm:GetParameter", REVIEWER_KEY) in steps.checked
    assert (merged["counts"]["missing"], merged["counts"]["repaired"], merged["clean"]) == (3, 3, True)


@pytest.fixture
def api_deployed(synth_stage, monkeypatch) -> Iterator[Deploy]:
    """The staging API function; the seed's tables in moto, a legacy user, the flag's control item."""
    template = synth_stage("staging@env").templates["api"]
    with mock_aws():
        import boto3

        from cutover.names import Names

        monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
        ddb = boto3.client("dynamodb", region_name=REGION)

        def world(env: dict) -> None:
            legacy = json.loads(env["SOURCE_TABLES"])
            for spec in Names(env["SERVICE"], env["STAGE"], legacy=tuple(legacy.items())).all_specs():
                ddb.create_table(**spec.create_table_kwargs())
            ddb.put_item(TableName=legacy["users"], Item=to_ddb({"userId": "u1", "email": "ann@example.com"}))

        yield _deployer(template, monkeypatch, world)


@pytest.mark.parametrize("read_source", READ_SOURCES)
def test_the_api_serves_a_get_and_a_post_under_its_own_policy(api_deployed, read_source):
    """The flag is the control item in the reports table; the API's grant there carries a
    Condition (dynamodb:LeadingKeys) the checker does not evaluate (it counts an Allow with a
    Condition as allowing), so only a missing action or table shows here, not a key outside it."""
    from app_handlers import api
    from cutover.state import CONTROL, FLIP
    from cutover_cli.http_bridge import to_event

    # Given the staging API function, the flag's control item at `read_source`
    api_policy = api_deployed(HANDLER)
    reports = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/my-service-staging-cutover-reports"
    item = to_ddb({"pk": FLIP, "sk": CONTROL, "readSource": read_source, "version": 1})
    import boto3

    boto3.client("dynamodb", region_name=REGION).put_item(TableName=reports.rsplit("/", 1)[1], Item=item)
    post = to_event(
        "POST", "/users", {"content-type": "application/json"}, b'{"email": "bo@example.com", "name": "Bo"}'
    )
    api.cold_start.reset()
    try:
        # When it serves a GET and a POST as API Gateway delivers them
        with enforced(api_policy, ACCOUNT, REGION) as denials:
            got = api.lambda_handler(to_event("GET", "/users/u1", {}, None), None)
            created = api.lambda_handler(post, None)
            api.cold_start.get().ctx.shadow.drain()  # shadow evidence, written off the read's thread
    finally:
        api.cold_start.reset()
    # Then both answered and every call was granted, the flag's read among them
    assert denials.seen == [] and (got["statusCode"], created["statusCode"]) == (200, 201), (got, created)
    assert ("dynamodb:GetItem", reports) in denials.checked
    assert any(reports in s.resources for s in api_policy.unchecked)  # the LeadingKeys grant, unevaluated
    # And on shadow the comparison was recorded in the API table, under its own (shadow#) grant
    recorded = ("dynamodb:UpdateItem", API_TABLE) in denials.checked
    assert recorded == (read_source == "shadow"), denials.checked
    assert any(API_TABLE in s.resources and "dynamodb:UpdateItem" in s.actions for s in api_policy.unchecked)


def test_without_the_shadow_grant_the_read_is_served_and_the_failure_counted(api_deployed):
    """A shadow read whose evidence AWS refuses to record (no UpdateItem on the API table) is
    still served; the refusal is logged and counted (ShadowRecordFailed)."""
    import boto3

    from app_handlers import api
    from cutover.state import CONTROL, FLIP
    from cutover_cli.http_bridge import to_event

    # Given the staging API function on shadow, its policy without the shadow evidence grant
    policy = api_deployed(HANDLER).without("dynamodb:UpdateItem", "cutover-api")
    reports = "my-service-staging-cutover-reports"
    item = to_ddb({"pk": FLIP, "sk": CONTROL, "readSource": "shadow", "version": 1})
    boto3.client("dynamodb", region_name=REGION).put_item(TableName=reports, Item=item)
    api.cold_start.reset()
    try:
        # When it serves a GET as API Gateway delivers it
        with enforced(policy, ACCOUNT, REGION) as denials:
            got = api.lambda_handler(to_event("GET", "/users/u1", {}, None), None)
            ctx = api.cold_start.get().ctx
            ctx.shadow.drain()
    finally:
        api.cold_start.reset()
    # Then legacy's answer was served, and the refused write was counted, not raised
    assert got["statusCode"] == 200 and set(denials.seen) == {("dynamodb:UpdateItem", API_TABLE)}, denials.seen
    assert ctx.telemetry.counts["ShadowRecordFailed"] >= 1


def _custom_resource(synth_stage, kind: str) -> tuple[dict, Policy]:
    """A custom resource's properties and the policy of its own function (not the provider
    framework's: that one only invokes it). Both Python functions share the Handler
    `index.on_event`, so the template is cut to the one the resource's provider invokes."""
    template = synth_stage("staging@env").templates["stateful"]
    resources = template["Resources"]
    (properties,) = [r["Properties"] for r in resources.values() if r["Type"] == kind]
    framework = properties["ServiceToken"]["Fn::GetAtt"][0]
    (invoked,) = {
        s["Resource"]["Fn::GetAtt"][0]
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy"
        and {"Ref": resources[framework]["Properties"]["Role"]["Fn::GetAtt"][0]} in r["Properties"]["Roles"]
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "lambda:GetFunction"
    }
    alone = {lid: r for lid, r in resources.items() if r["Type"] != "AWS::Lambda::Function" or lid == invoked}
    handler = resources[invoked]["Properties"]["Handler"]
    return properties, function_policy({"Resources": alone}, handler, Resolver(ACCOUNT, REGION))


def test_the_legacy_check_describes_each_legacy_table_under_its_own_policy(synth_stage, monkeypatch):
    from infra.functions.legacy_check import index

    properties, check_policy = _custom_resource(synth_stage, "Custom::LegacyTableCheck")
    with mock_aws():
        import boto3

        # Given the staging legacy tables as the runbook requires them (stream, PITR, deletion protection)
        monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
        ddb, tables = boto3.client("dynamodb", region_name=REGION), {}
        for name in json.loads(properties["Tables"]):
            tables[name] = ddb.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
                DeletionProtectionEnabled=True,
            )["TableDescription"]["LatestStreamArn"]
            ddb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        event = {"RequestType": "Create", "ResourceProperties": {**properties, "Tables": json.dumps(tables)}}
        # When CloudFormation creates the resource
        with enforced(check_policy, ACCOUNT, REGION) as denials:
            out = index.on_event(event, None)
    # Then the check passed and every call was granted
    assert denials.seen == [] and out["PhysicalResourceId"].startswith("legacy-check-")
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/legacy-staging-users"
    assert {("dynamodb:DescribeTable", table), ("dynamodb:DescribeContinuousBackups", table)} <= set(denials.checked)


def test_the_read_source_flag_resource_creates_then_keeps_the_mirror_under_its_own_policy(synth_stage, monkeypatch):
    from infra.functions.read_source_flag import index

    properties, flag_policy = _custom_resource(synth_stage, "Custom::ReadSourceFlag")
    with mock_aws():
        monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
        event = {"RequestType": "Create", "ResourceProperties": properties}
        # When CloudFormation creates the resource, then updates it (the parameter exists by then)
        with enforced(flag_policy, ACCOUNT, REGION) as denials:
            created = index.on_event(event, None)
            updated = index.on_event({**event, "RequestType": "Update"}, None)
    # Then both were granted, the PutParameter on the flag's parameter only
    assert denials.seen == [] and created == updated == {"PhysicalResourceId": properties["Name"]}
    parameter = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/my-service/staging/cutover/read-source"
    assert set(denials.checked) == {("ssm:PutParameter", parameter)}
