"""Local HTTP -> the API Gateway REST (v1) events the Lambda receives, and back.

`cutover api` serves this on 127.0.0.1 so the real handler code can be tried with curl.
"""

from __future__ import annotations

import base64
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

Handler = Callable[[dict[str, Any]], dict[str, Any]]
# What API Gateway answers when the Lambda function itself fails (an unhandled exception):
# https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html ("If the function runs
# but returns an error ... API Gateway returns a 502 ... {"message": "Internal server error"}").
FUNCTION_ERROR = {
    "statusCode": 502,
    "headers": {"Content-Type": "application/json"},
    "body": '{"message": "Internal server error"}',
}


def to_event(
    method: str, target: str, headers: dict[str, str], body: bytes | None, stage: str = "local"
) -> dict[str, Any]:
    """The v1 proxy event for one HTTP request (`target` is the request line's path + query).

    `path` is kept percent-encoded, as API Gateway REST delivers it (the handler decodes a path
    parameter once); query string parameters are decoded, as API Gateway does."""
    url = urlsplit(target)
    multi = parse_qs(url.query, keep_blank_values=True)
    return {
        "resource": "/{proxy+}",
        "path": url.path,
        "httpMethod": method,
        "headers": dict(headers),
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": {"proxy": url.path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/{stage}{url.path}",
            "stage": stage,
            "requestId": uuid.uuid4().hex,
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent", "")},
            "accountId": "000000000000",
            "apiId": "local",
        },
        "body": body.decode("utf-8", errors="replace") if body else None,
        "isBase64Encoded": False,
    }


def _response_headers(response: dict[str, Any]) -> list[tuple[str, str]]:
    out = [(k, v) for k, v in (response.get("headers") or {}).items()]
    for k, values in (response.get("multiValueHeaders") or {}).items():
        out += [(k, v) for v in values]
    return out


class BridgeServer(ThreadingHTTPServer):
    """Announces readiness from inside the serving loop, so "ready" is never printed before requests
    are served (the first `service_actions` call happens once `serve_forever` is polling)."""

    _ready: Callable[[], None] | None = None

    def serve_forever(self, poll_interval: float = 0.5, ready: Callable[[], None] | None = None) -> None:
        self._ready = ready
        super().serve_forever(poll_interval)

    def service_actions(self) -> None:
        if self._ready is not None:
            ready, self._ready = self._ready, None
            ready()


def check_backend(clients: Any, tables: tuple[str, ...]) -> None:
    """Fail fast before serving: every table exists (the reports table holds the read-source flag).

    Raises botocore's errors unchanged: the CLI turns them into one line and exit 2 (an
    unreachable endpoint is named as such, a missing table as AWS's ResourceNotFoundException)."""
    for table in tables:
        clients.dynamodb.describe_table(TableName=table)


def _wire_target(target: str) -> str:
    """The request line as sent: http.server decodes it as Latin-1, so raw UTF-8 bytes a client did
    not percent-encode (curl sends them as typed) become escapes of those bytes again."""
    raw = target.encode("latin-1", errors="replace")
    return raw.decode("ascii") if raw.isascii() else quote(raw, safe="/%:@!$&'()*+,;=-._~?#[]")


def make_server(handler: Handler, port: int, host: str = "127.0.0.1") -> BridgeServer:
    """An HTTP server (not yet serving) that feeds every request to `handler` as a v1 event."""

    class _Bridge(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            try:
                response = handler(to_event(self.command, _wire_target(self.path), dict(self.headers.items()), body))
            except Exception:  # noqa: BLE001 - answered as API Gateway does, not a dropped connection
                traceback.print_exc(file=sys.stderr)
                response = FUNCTION_ERROR
            payload = response.get("body") or ""
            data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
            self.send_response(int(response.get("statusCode", 500)))
            for name, value in _response_headers(response):
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return BridgeServer((host, port), _Bridge)
