"""`cutover api` as a real process, driven over HTTP on loopback with urllib."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from decimal import Decimal

import pytest
from boto3.dynamodb.types import Binary
from flag_owner import set_read_source  # tests/ is on sys.path

from cutover.codec import to_ddb
from cutover_cli.http_bridge import make_server
from cutover_cli.local_backend import free_port
from migrations.seed.transform import transform
from replicator.v3_writer import V3Writer

pytestmark = pytest.mark.server
CUTOVER = [sys.executable, "-c", "from cutover_cli.app import main; main()"]  # the console script, minus PATH lookups


def _ready_line(proc: subprocess.Popen, timeout: float = 30.0) -> str:
    """The first stdout line of `cutover api`: printed only once it serves, so nothing polls the port."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        raise AssertionError(f"cutover api printed no ready line within {timeout}s")
    line = proc.stdout.readline()
    if not line:
        raise AssertionError(f"cutover api exited early: {proc.stderr.read() if proc.stderr else ''}")
    return line.strip()


def _request(url: str, body: dict | None = None, method: str | None = None, header: str = "X-Cutover-Source"):
    status, text, value = _raw_request(url, body, method, header)
    return status, json.loads(text), value


def _raw_request(url: str, body: dict | None = None, method: str | None = None, header: str = "X-Cutover-Source"):
    """(status, body text, one response header): the body as sent, for what json.loads would round off."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, method=method or ("POST" if data else "GET"), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            return resp.status, resp.read().decode(), resp.headers.get(header)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), err.headers.get(header)


@pytest.fixture
def api_url(settings):
    port = free_port()
    proc = subprocess.Popen(
        # --cache-seconds 0: a test that changes the read-source flag sees it on the next request
        [
            *CUTOVER,
            "api",
            "--port",
            str(port),
            "--cache-seconds",
            "0",
            "--endpoint-url",
            settings.endpoint_url,
            "--service",
            settings.service,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        line = _ready_line(proc)
        assert line == f"ready http://127.0.0.1:{port}", line
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_register_order_and_read_back_over_http(settings, clients, api_url):
    # Given a legacy user typed messily years ago
    clients.dynamodb.put_item(
        TableName=settings.names.source_table("users"), Item=to_ddb({"userId": "old", "email": " Old@Example.com"})
    )
    # When a client registers a user, places an order and reads both back over HTTP
    status, user, source = _request(f"{api_url}/users", {"email": "New@Example.com", "name": "New"})
    assert (status, user["email"], source) == (201, "new@example.com", "legacy")
    status, order, _ = _request(f"{api_url}/orders", {"userId": user["userId"], "amount": 9.99})
    assert (status, order["amount"]) == (201, 9.99)
    # Then the reads answer through the same handler the Lambda runs
    assert _request(f"{api_url}/users/{user['userId']}")[:2] == (200, user)
    status, body, _ = _request(f"{api_url}/users/{user['userId']}/orders")
    assert status == 200 and [o["orderId"] for o in body["orders"]] == [order["orderId"]]
    assert _request(f"{api_url}/users?email=%20Old@Example.com")[1]["userId"] == "old"
    # And errors are JSON with the right codes
    assert _request(f"{api_url}/users/nobody")[0] == 404
    status, body, _ = _request(f"{api_url}/users", {"email": " NEW@example.com", "name": "Dup"})
    assert status == 409
    status, body, _ = _request(f"{api_url}/orders", {"userId": user["userId"], "amount": "x"})
    assert (status, body["fields"]) == (400, ["amount"])


# Every DynamoDB type, as the API serves it (docs/API.md, "JSON shape of attributes").
BIG = "12345678901234567890.123456789012345678"  # 38 significant digits: DynamoDB's maximum precision
B64 = {b"\x00\xffpng": "AP9wbmc=", b"\x01\x00": "AQA=", b"\x02": "Ag==", b"\xff": "/w==", b"x": "eA=="}


def _typed_user(uid: str) -> dict:
    return {
        "userId": uid,
        "email": f"{uid}@example.com",
        "name": "Every type",
        "avatar": Binary(b"\x00\xffpng"),  # B
        "keys": {Binary(b"\xff"), Binary(b"\x01\x00"), Binary(b"\x02")},  # BS: byte order differs from base64's
        "profile": {"thumb": Binary(b"x"), "tags": ["a", Decimal("1.5"), None, True, {"deep": Binary(b"\x02")}]},
        "scores": {Decimal("10"), Decimal("9.5"), Decimal("-1"), Decimal("2")},  # NS: numeric order, not text
        "labels": {"b", "a", "C"},  # SS
        "balance": Decimal(BIG),
        "nothing": None,
        "active": False,
        "count": Decimal("7"),
    }


def _typed_user_json(uid: str) -> dict:
    """What the API must answer for `_typed_user(uid)`, decoded with parse_float=Decimal (exact)."""
    return {
        "userId": uid,
        "email": f"{uid}@example.com",
        "name": "Every type",
        "avatar": B64[b"\x00\xffpng"],
        "keys": [B64[b"\x01\x00"], B64[b"\x02"], B64[b"\xff"]],
        "profile": {"thumb": B64[b"x"], "tags": ["a", Decimal("1.5"), None, True, {"deep": B64[b"\x02"]}]},
        "scores": [-1, 2, Decimal("9.5"), 10],
        "labels": ["C", "a", "b"],
        "balance": Decimal(BIG),
        "nothing": None,
        "active": False,
        "count": 7,
    }


@pytest.mark.parametrize("mode,served_by", [("legacy", "legacy"), ("shadow", "legacy"), ("v3", "v3")])
def test_every_dynamodb_type_is_served_as_json_in_every_read_mode(settings, clients, api_url, mode, served_by):
    # Given a legacy user with binary, binary-set, nested binary, sets, null, booleans and a 38-digit
    # number, an order of theirs with a binary attribute, both replicated to v3 as the contract says
    uid = f"bin-{uuid.uuid4().hex[:8]}"
    user = _typed_user(uid)
    order = {"orderId": f"{uid}-o1", "userId": uid, "amount": Decimal("9.99"), "receipt": Binary(b"\x00\xffpng")}
    v3 = V3Writer(clients.dynamodb, settings.names.v3_table)
    for source, item in (("users", user), ("orders", order)):
        clients.dynamodb.put_item(TableName=settings.names.source_table(source), Item=to_ddb(item))
        v3.put(transform(source, item)[0], "5", f"{source}#{item[f'{source[:-1]}Id']}")
    # And the API reading in `mode`
    set_read_source(settings, clients, mode)
    # When both are read over HTTP
    status, text, source = _raw_request(f"{api_url}/users/{uid}")
    # Then every type is served: base64 binaries, sorted sets, the number in its exact decimal text
    assert (status, source) == (200, served_by), text
    assert json.loads(text, parse_float=Decimal) == _typed_user_json(uid)
    assert f'"balance": {BIG}' in text
    status, text, source = _raw_request(f"{api_url}/users/{uid}/orders")
    assert (status, source) == (200, served_by), text
    (served,) = json.loads(text, parse_float=Decimal)["orders"]
    assert (served["receipt"], served["amount"]) == (B64[b"\x00\xffpng"], Decimal("9.99"))


@pytest.mark.parametrize(
    "user_id",
    [
        "ann smith",  # a space: the example
        "zoë-ünïcødé-用户",  # unicode, no slash
        "a/b",  # an encoded slash (%2F): one path segment here (API Gateway REST does not route it: docs/API.md)
        '100% "quoted" #1?&x=y',  # %, quotes, # and ? and & that would otherwise end the path
        " padded ",  # surrounding spaces are part of the key, not stripped
        "x" * 2048,  # DynamoDB's largest partition key (2048 bytes)
    ],
)
def test_every_key_the_transform_accepts_is_readable_url_encoded(settings, clients, api_url, user_id):
    # Given a legacy user and order whose userId the old path pattern refused
    clients.dynamodb.put_item(
        TableName=settings.names.source_table("users"), Item=to_ddb({"userId": user_id, "email": "odd@example.com"})
    )
    order_id = f"o-{uuid.uuid4().hex[:8]}"
    clients.dynamodb.put_item(
        TableName=settings.names.source_table("orders"),
        Item=to_ddb({"orderId": order_id, "userId": user_id, "amount": Decimal(3)}),
    )
    path = urllib.parse.quote(user_id, safe="")
    # When they are read with the id URL-encoded in the path, Then the user and their orders are served
    status, body, _ = _request(f"{api_url}/users/{path}")
    assert (status, body.get("userId")) == (200, user_id), body
    status, body, _ = _request(f"{api_url}/users/{path}/orders")
    assert (status, body["userId"], [o["orderId"] for o in body["orders"]]) == (200, user_id, [order_id]), body


def test_a_key_dynamodb_could_not_store_is_400_naming_the_rule(api_url):
    # When the id is longer than DynamoDB's 2048-byte partition key limit (here 1025 two-byte characters)
    status, body, _ = _request(f"{api_url}/users/{urllib.parse.quote('é' * 1025)}")
    # Then 400 naming userId and the limit, not a 503 from DynamoDB's ValidationException
    assert (status, body["fields"]) == (400, ["userId"]) and "2048 bytes" in body["message"], body


@pytest.mark.parametrize(
    "method,path,status,allow",
    [
        ("GET", "/nowhere", 404, None),
        ("GET", "/users/u1/orders/o1", 404, None),
        ("DELETE", "/users/u1", 405, "GET"),
        ("GET", "/orders", 405, "POST"),
        ("PUT", "/users", 405, "GET, POST"),
    ],
)
def test_unknown_routes_and_wrong_methods_are_json_errors(api_url, method, path, status, allow):
    # When a client calls a route that does not exist, or an existing route with the wrong method
    got, body, allowed = _request(f"{api_url}{path}", method=method, header="Allow")
    # Then 404/405 in the same JSON shape as every other error, naming the path (and the allowed methods)
    assert (got, set(body), allowed) == (status, {"message"}, allow)
    assert path in body["message"]


@pytest.mark.parametrize("amount", ["12.5", True, None, [1]])
def test_a_number_sent_as_another_json_type_is_400_naming_the_field(settings, clients, api_url, amount):
    # Given a registered user
    _, user, _ = _request(f"{api_url}/users", {"email": f"{uuid.uuid4().hex[:8]}@example.com", "name": "N"})
    # When an order's amount is sent as a string (or a boolean...), Then 400 naming `amount`: no coercion
    status, body, _ = _request(f"{api_url}/orders", {"userId": user["userId"], "amount": amount})
    assert (status, body["fields"]) == (400, ["amount"]) and "amount" in body["message"]


def _run_api(*args: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
    return subprocess.run([*CUTOVER, "api", *args], capture_output=True, text=True, timeout=timeout, env={**os.environ})


def test_an_unreachable_backend_is_refused_at_start():
    # When `cutover api` is pointed at an endpoint nothing listens on
    done = _run_api("--port", "0", "--endpoint-url", "http://127.0.0.1:1")
    # Then it exits 2 with one line naming the endpoint, and never printed a ready line
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1
    assert "http://127.0.0.1:1" in done.stderr and "Traceback" not in done.stderr


def test_a_taken_port_is_one_line_and_exit_2(settings):
    # Given a port already bound by someone else
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        # When `cutover api` is asked to serve on it
        done = _run_api("--port", str(port), "--endpoint-url", settings.endpoint_url, "--service", settings.service)
    # Then one line naming the port, exit 2, no traceback
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and str(port) in done.stderr and "Traceback" not in done.stderr


def test_a_handler_that_raises_is_a_502_as_api_gateway_answers_not_a_dropped_connection(capfd):
    # Given the local bridge in front of a handler that fails (a bug, as the binary crash was)
    def broken(event):
        raise TypeError("Object of type Binary is not JSON serializable")

    server = make_server(broken, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # When a client calls it
        status, body, _ = _request(f"http://127.0.0.1:{server.server_address[1]}/users/u1")
    finally:
        server.shutdown()
        server.server_close()
    # Then it gets what API Gateway sends for a failed Lambda, and the traceback goes to stderr
    assert (status, body) == (502, {"message": "Internal server error"})
    assert "TypeError: Object of type Binary" in capfd.readouterr().err
