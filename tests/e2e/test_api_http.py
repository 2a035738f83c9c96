"""`cutover api` as a real process, driven over HTTP on loopback with urllib."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from cutover.codec import to_ddb
from cutover_cli.local_backend import free_port

pytestmark = pytest.mark.server
CUTOVER = [sys.executable, "-c", "from cutover_cli.app import main; main()"]  # the console script, minus PATH lookups


def _wait(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"cutover api exited early: {proc.stderr.read() if proc.stderr else ''}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"cutover api did not listen on {port} within {timeout}s")


def _request(url: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, method="POST" if data else "GET", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            return resp.status, json.loads(resp.read()), resp.headers.get("X-Cutover-Source")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), err.headers.get("X-Cutover-Source")


@pytest.fixture
def api_url(settings):
    port = free_port()
    proc = subprocess.Popen(
        [*CUTOVER, "api", "--port", str(port), "--endpoint-url", settings.endpoint_url, "--service", settings.service],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        _wait(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_register_order_and_read_back_over_http(settings, clients, api_url):
    # Given a legacy user typed messily years ago
    clients.dynamodb.put_item(
        TableName=settings.names.users_table, Item=to_ddb({"userId": "old", "email": " Old@Example.com"})
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
