"""The CDK app is generic over the migration definition (issue 18): what the catalog migration
(`-c migration=migrations.catalog:MIGRATION`) deploys, the secret grants, the seed-only example
API, and a definition from a package outside the repository shipped in every Lambda bundle."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cutover.errors import ConfigError
from infra.constructs.code import build_lambda_bundle, module_roots
from tests.infrastructure.conftest import legacy_context
from tests.infrastructure.test_replication_stack import _function, _grants, statements_of

pytestmark = pytest.mark.infra

TRANSFORMING = (
    "replicator.handler.lambda_handler",
    "backfill.segment_lambda.lambda_handler",
    "reconciler.segment_lambda.lambda_handler",
    "reconciler.merge.lambda_handler",
)
SECRET_PARAMETER = "parameter/my-service/{stage}/cutover/secrets/reviewer-key"  # migrations/catalog.py, literal


def _table(synth, name: str) -> dict:
    (found,) = [
        r["Properties"]
        for _, r in synth.resources("AWS::DynamoDB::Table", "stateful")
        if r["Properties"]["TableName"] == name
    ]
    return found


def test_catalog_target_has_its_keys_and_numeric_gsi(catalog_synth):
    # Given the catalog migration's target table
    synth = catalog_synth
    props = _table(synth, f"my-service-{synth.stage}-catalog")
    # Then its keys are the definition's generic pk/sk, and ByRating's sort key is a number (N)
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]} == {
        "pk": "S",
        "sk": "S",
        "gsi1pk": "S",
        "rating": "N",
    }
    (index,) = props["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "ByRating"
    assert index["KeySchema"] == [
        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
        {"AttributeName": "rating", "KeyType": "RANGE"},
    ]
    # an INCLUDE projection carries exactly the declared attributes
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title", "reviewerHash"]}
    # and the seed's table is nowhere
    names = {r["Properties"]["TableName"] for _, r in synth.resources("AWS::DynamoDB::Table")}
    assert not [n for n in names if n.endswith("-users-v3")]


def test_catalog_has_no_example_api(catalog_synth):
    # The seed's example API (users/orders routes) is not deployed for another definition
    assert set(catalog_synth.templates) <= {"stateful", "replication", "network"}
    assert not catalog_synth.resources("AWS::ApiGateway::RestApi")
    assert not [t for t in catalog_synth.resources("AWS::DynamoDB::Table") if "-cutover-api" in json.dumps(t)]


def test_catalog_sources_each_get_an_event_source_queue_and_exact_grants(catalog_synth):
    synth = catalog_synth
    # one event source per source stream, each sending to its own source's queue
    mappings = {
        m["Properties"]["EventSourceArn"]: m["Properties"]
        for _, m in synth.resources("AWS::Lambda::EventSourceMapping", "replication")
    }
    assert set(mappings) == {synth.legacy_stream("products"), synth.legacy_stream("reviews")}
    queues = {lid: q["Properties"]["QueueName"] for lid, q in synth.resources("AWS::SQS::Queue", "replication")}
    for role in ("products", "reviews"):
        target = mappings[synth.legacy_stream(role)]["DestinationConfig"]["OnFailure"]["Destination"]
        assert queues[target["Fn::GetAtt"][0]] == f"my-service-{synth.stage}-cutover-{role}-stream-failures"
    # the reads each function makes on each legacy table, and no index (only the seed's API queries them)
    segment = _grants(synth, "backfill.segment_lambda.lambda_handler")
    reconcile = _grants(synth, "reconciler.segment_lambda.lambda_handler")
    run = _grants(synth, "reconciler.merge.lambda_handler")
    for role in ("products", "reviews"):
        table = synth.legacy_table(role)
        assert segment[table] == {"dynamodb:Scan", "dynamodb:GetItem"}
        assert reconcile[table] == {"dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:GetItem"}
        assert run[table] == {"dynamodb:GetItem"}
    policies = json.dumps([p for _, p in synth.resources("AWS::IAM::Policy", "replication")])
    assert "/index/" not in policies


def test_catalog_functions_run_the_catalog_definition(catalog_synth):
    for handler in TRANSFORMING:
        variables = _function(catalog_synth, "replication", handler)["Environment"]["Variables"]
        assert variables["CUTOVER_MIGRATION"] == "migrations.catalog:MIGRATION"
        assert json.loads(variables["SOURCE_TABLES"]) == {
            "products": catalog_synth.legacy_table("products"),
            "reviews": catalog_synth.legacy_table("reviews"),
        }
        assert variables["V3_TABLE"] == f"my-service-{catalog_synth.stage}-catalog"


def _secret_statements(synth, handler, stack="replication"):
    return [
        (actions, resources, statement)
        for actions, resources, statement in statements_of(synth, handler, stack)
        if any(a.startswith(("ssm:", "kms:")) for a in actions)
    ]


def test_each_transforming_function_gets_exactly_the_catalog_secret(catalog_synth):
    synth = catalog_synth
    region = {"Ref": "AWS::Region"} if not synth.env_bound else synth.context["region"]
    for handler in TRANSFORMING:
        found = _secret_statements(synth, handler)
        # GetParameter on exactly the pinned secret's parameter ARN, in this stage's path...
        (get,) = [(r, s) for a, r, s in found if a == {"ssm:GetParameter"}]
        assert len(get[0]) == 1 and SECRET_PARAMETER.format(stage=synth.stage) in get[0][0]
        # ...and Decrypt only through Parameter Store in this region
        (decrypt,) = [s for a, _, s in found if a == {"kms:Decrypt"}]
        via = decrypt["Condition"]["StringEquals"]["kms:ViaService"]
        assert json.dumps(via) == json.dumps(
            f"ssm.{region}.amazonaws.com" if synth.env_bound else {"Fn::Join": ["", ["ssm.", region, ".amazonaws.com"]]}
        )
        assert len(found) == 2  # nothing else of SSM or KMS
    # and no other function (the deploy-time checks, the flag creator) may read it
    text = {
        role: [
            lid
            for lid, p in synth.resources("AWS::IAM::Policy", role)
            if "/secrets/" in json.dumps(p) or "kms:Decrypt" in json.dumps(p)
        ]
        for role in synth.templates
    }
    assert len(text["replication"]) == len(TRANSFORMING) and not text["stateful"]


def test_each_transforming_function_may_read_only_the_secret_pins_of_the_checkpoints_table(catalog_synth):
    # Given the catalog (a secret): every transforming function reads the recorded pin at cold start
    checkpoints = f"my-service-{catalog_synth.stage}-cutover-checkpoints"
    for handler in TRANSFORMING:
        pins = [
            s
            for a, r, s in statements_of(catalog_synth, handler)
            if a == {"dynamodb:GetItem"} and s.get("Condition") and checkpoints in json.dumps(r)
        ]
        # Then GetItem on the checkpoints table is granted, limited to the `secret-pin` partition
        assert len(pins) == 1, handler
        assert pins[0]["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["secret-pin"]}}


def test_the_seed_declares_no_secret_so_none_is_granted(seed_synth):
    for handler in TRANSFORMING:
        assert _secret_statements(seed_synth, handler) == []
    policies = json.dumps([p for _, p in seed_synth.resources("AWS::IAM::Policy")])
    assert "kms:Decrypt" not in policies and "/secrets/" not in policies


def test_the_example_api_is_deployed_for_another_definition_only_when_asked(synth_with):
    # Given the catalog with -c api=true
    templates = synth_with("staging", "catalog", api="true")
    # Then the API stack is there, reading the catalog's sources and transforming with its secret
    assert "api" in templates
    (api,) = [
        r["Properties"]
        for r in templates["api"]["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == "app_handlers.api.lambda_handler"
    ]
    assert set(json.loads(api["Environment"]["Variables"]["SOURCE_TABLES"])) == {"products", "reviews"}
    policy = json.dumps([r for r in templates["api"]["Resources"].values() if r["Type"] == "AWS::IAM::Policy"])
    assert SECRET_PARAMETER.format(stage="staging") in policy and "kms:ViaService" in policy
    assert "/index/category-index" in policy  # the GSI the definition declares on products


# --- a definition in the team's own package, outside this repository ----------------------------

DEFINITION = '''
    """A team's own definition, outside cutover's repository."""
    from cutover.migration import Key, Migration, Source, Target


    def things(item):
        return [{{**item, "pk": f"THING#{{item['id']}}", "sk": "A"}}]


    MIGRATION = Migration(
        name="{name}",
        target=Target(table="{{service}}-{{stage}}-acme", hash_key=Key("pk"), range_key=Key("sk")),
        sources=(
            Source(role="things", table="{{service}}-{{stage}}-things", hash_key=Key("id", "N"), transform=things),
        ),
    )
'''


@pytest.fixture
def outside_package(tmp_path, monkeypatch) -> tuple[str, Path]:
    """A package `<name>` with `<name>.defs:MIGRATION`, under tmp_path/src (put on sys.path)."""
    name = f"acme_defs_{tmp_path.name.replace('-', '_').lower()}"[:60]
    package = tmp_path / "src" / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""The Acme team\'s migrations."""\n')
    (package / "defs.py").write_text(textwrap.dedent(DEFINITION.format(name="acme")))
    (package / "data").mkdir()
    (package / "data" / "mapping.json").write_text("{}")
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    return name, package


def test_a_definition_outside_the_repo_is_bundled_and_loads_from_the_bundle_alone(outside_package, tmp_path):
    name, package = outside_package
    # Given the bundle built for `<name>.defs`
    bundle = build_lambda_bundle(tmp_path / "build", modules=(f"{name}.defs",))
    # Then the whole top-level package is in it, beside cutover's own
    assert (bundle / name / "defs.py").read_text() == (package / "defs.py").read_text()
    assert (bundle / name / "data" / "mapping.json").is_file()
    assert (bundle / "cutover").is_dir() and (bundle / "migrations").is_dir()
    # And a Lambda with CUTOVER_MIGRATION loads it from the bundle, with nothing else on its path
    elsewhere = tmp_path / "task"
    elsewhere.mkdir()
    script = textwrap.dedent(f"""
        import sys
        sys.path = [p for p in sys.path if {str(tmp_path / "src")!r} not in p]
        sys.path.insert(0, {str(bundle)!r})
        from cutover.migration_loader import load_migration
        migration = load_migration()
        module = sys.modules[{name + ".defs"!r}]
        assert module.__file__.startswith({str(bundle)!r}), module.__file__
        print(migration.name, migration.roles)
    """)
    env = {"CUTOVER_MIGRATION": f"{name}.defs:MIGRATION", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=elsewhere, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["acme", "('things',)"]
    # And a different bundle (content-addressed) than cutover's own
    assert build_lambda_bundle(tmp_path / "build") != bundle


def test_the_app_ships_an_outside_definition_in_every_function(outside_package, runbook_app, tmp_path):
    name, _ = outside_package
    # Given the app built for the outside definition (stacks constructed: the assets are staged)
    app, stacks = runbook_app(
        "staging",
        migration=f"{name}.defs:MIGRATION",
        **legacy_context("staging", ("things",), "222222222222"),
    )
    # Then no example API, and every function's asset holds the definition's package
    assert set(stacks) == {"stateful", "replication", "network"}
    outdir = Path(app.outdir)
    assets = {p.parent.parent.name for p in outdir.glob("asset.*/cutover/__init__.py")}
    assert assets and all((outdir / asset / name / "defs.py").is_file() for asset in assets)
    # and, synthesized (cdk-nag and the retention check pass), every engine function loads it
    template = app.synth().get_stack_by_name(stacks["replication"].stack_name).template
    functions = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    engine = [f for f in functions if f.get("Handler", "").split(".")[0] in ("replicator", "backfill", "reconciler")]
    assert len(engine) == 4
    for function in engine:
        variables = function["Environment"]["Variables"]
        assert variables["CUTOVER_MIGRATION"] == f"{name}.defs:MIGRATION"
        assert variables["SOURCE_TABLES"] == json.dumps({"things": "legacy-staging-things"})


def test_a_package_named_like_one_of_ours_is_refused(tmp_path, monkeypatch):
    # Given a team package called `migrations` elsewhere, shadowing the shipped one
    package = tmp_path / "src" / "migrations"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    monkeypatch.delitem(sys.modules, "migrations", raising=False)
    # Then the bundle refuses it (it can hold one `migrations`), naming the fix
    with pytest.raises(ConfigError, match="has the name of one of cutover's own: rename your package"):
        module_roots("migrations.mine")
    # while the shipped definitions need nothing added
    monkeypatch.undo()
    assert module_roots("migrations.catalog") == []
