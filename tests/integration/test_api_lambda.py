"""The Lambda entry point: environment validated at cold start, metrics flushed as EMF."""

from __future__ import annotations

import json

import pytest
from flag_owner import set_read_source  # tests/ is on sys.path

from app_handlers import api
from cutover.errors import ConfigError
from cutover_cli.http_bridge import to_event

pytestmark = pytest.mark.server


@pytest.fixture
def cold():
    api.cold_start.reset()
    yield
    api.cold_start.reset()


def _env(settings) -> dict[str, str]:
    n = settings.names
    return {
        "SERVICE": settings.service,
        "STAGE": settings.stage,
        "POWERTOOLS_SERVICE_NAME": settings.service,
        "SOURCE_TABLES": json.dumps(n.source_tables()),
        "V3_TABLE": n.v3_table,
        "REPORTS_TABLE": n.reports_table,
        "CUTOVER_ENDPOINT_URL": settings.endpoint_url,
    }


def test_cold_start_names_every_missing_variable(cold, monkeypatch):
    # Given an environment without the table variables
    for name in ("SOURCE_TABLES", "V3_TABLE", "REPORTS_TABLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SERVICE", "my-service")
    monkeypatch.setenv("STAGE", "dev")
    # When the Lambda is invoked, Then it fails at cold start naming each variable
    with pytest.raises(ConfigError) as err:
        api.lambda_handler(to_event("GET", "/users/x", {}, None), None)
    assert all(name in str(err.value) for name in ("SOURCE_TABLES", "V3_TABLE", "REPORTS_TABLE"))


def test_lambda_serves_and_flushes_a_fallback_metric(cold, monkeypatch, settings, clients, capsys):
    # Given a valid environment and the flag at v3 with a user only in legacy
    for key, value in _env(settings).items():
        monkeypatch.setenv(key, value)
    set_read_source(settings, clients, "v3")
    clients.dynamodb.put_item(
        TableName=settings.names.source_table("users"), Item={"userId": {"S": "u9"}, "email": {"S": "u9@x.io"}}
    )
    # When the Lambda handles GET /users/u9
    resp = api.lambda_handler(to_event("GET", "/users/u9", {}, None), None)
    # Then legacy answers and the V3Fallback metric is emitted in the cutover namespace
    assert resp["statusCode"] == 200 and json.loads(resp["body"])["email"] == "u9@x.io"
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf and emf[-1]["V3Fallback"] in (1.0, [1.0])
    assert emf[-1]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "cutover"


def _rest_event(path: str) -> dict:
    """A GET as API Gateway REST sends it for the `users/{userId}` resource (infra/stacks/api.py)."""
    event = to_event("GET", path, {}, None)
    event["resource"] = "/users/{userId}"
    event["pathParameters"] = {"userId": path.removeprefix("/users/")}
    return event


@pytest.mark.parametrize(
    "path",
    [
        "/users/ann%20smith",  # REST APIs deliver the path percent-encoded, as the client sent it
        "/users/ann smith",  # a front that decodes it first (HTTP APIs do): decoded once all the same
    ],
)
def test_the_lambda_reads_a_user_id_with_a_space_decoding_it_once(cold, monkeypatch, settings, clients, path):
    # Given a legacy user whose id has a space
    for key, value in _env(settings).items():
        monkeypatch.setenv(key, value)
    clients.dynamodb.put_item(
        TableName=settings.names.source_table("users"), Item={"userId": {"S": "ann smith"}, "email": {"S": "ann@x.io"}}
    )
    # When the Lambda handles the GET
    resp = api.lambda_handler(_rest_event(path), None)
    # Then the user is served, its id decoded exactly once
    assert (resp["statusCode"], json.loads(resp["body"]).get("userId")) == (200, "ann smith"), resp["body"]


def test_the_lambda_decodes_an_escaped_percent_once_not_twice(cold, monkeypatch, settings, clients):
    # Given a user whose id is the literal text "50%25" (what "%2525" decodes to once)
    for key, value in _env(settings).items():
        monkeypatch.setenv(key, value)
    clients.dynamodb.put_item(
        TableName=settings.names.source_table("users"), Item={"userId": {"S": "50%25"}, "email": {"S": "pct@x.io"}}
    )
    resp = api.lambda_handler(_rest_event("/users/50%2525"), None)
    assert (resp["statusCode"], json.loads(resp["body"]).get("userId")) == (200, "50%25"), resp["body"]
