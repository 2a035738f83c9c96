"""The HTTP API (API Gateway REST, v1 events): a thin adapter over `reads` and `writes`.

Each route parses and validates its input, calls the domain, and shapes the response. Errors
map to responses in one place (`_app_error`): 400 names the field, 404 for absent or
tombstoned records and unknown routes, 405 (with `Allow`) for a known route with another method,
409 for a duplicate, 503 when the backend fails or the flag refuses writes (an unknown value);
every error body is `{"message": ...}` (plus `fields` for a 400), and bad input never becomes a 500.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from app_handlers.context import AppConfig, AppContext, build_context, lambda_metrics
from app_handlers.errors import AppError, InvalidRequest, RecordNotFound
from app_handlers.reads import Served
from app_handlers.records import json_text
from app_handlers.routing import FlagRefusesWrites
from app_handlers.schemas import CreateOrder, CreateUser, EmailQuery, UserPath, parse_body, parse_data
from app_handlers.telemetry import BACKEND_UNAVAILABLE
from cutover.clients import Clients
from cutover.coldstart import ColdStart
from cutover.environment import API_ENV

SOURCE_HEADER = "X-Cutover-Source"
ROUTES = {  # every route below, to tell 405 (known path, other method) from 404
    re.compile(r"^/users/?$"): ("GET", "POST"),
    re.compile(r"^/users/[^/]+/?$"): ("GET",),
    re.compile(r"^/users/[^/]+/orders/?$"): ("GET",),
    re.compile(r"^/orders/?$"): ("POST",),
}
ROUTE_LIST = "POST /users, GET /users?email=, GET /users/{userId}, GET /users/{userId}/orders, POST /orders"

app = APIGatewayRestResolver()
_lock = threading.Lock()  # the resolver keeps the current event on itself: one request at a time


@dataclass(frozen=True)
class LambdaRuntime:
    ctx: AppContext
    metrics: Metrics


def _build_runtime(env: dict[str, str], clients: Clients) -> LambdaRuntime:
    metrics = lambda_metrics()
    config = AppConfig.from_env(env, settings=clients.settings)
    return LambdaRuntime(build_context(config, clients, metrics=metrics), metrics)


cold_start: ColdStart[LambdaRuntime] = ColdStart(API_ENV, _build_runtime)


def _ctx() -> AppContext:
    return app.context["app"]


def _json(status: int, body: Any, source: str | None = None, headers: dict[str, str] | None = None) -> Response:
    headers = {**(headers or {}), **({SOURCE_HEADER: source} if source else {})} or None
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json_text(body),
        headers=headers,
    )


def _served(served: Served, what: str) -> Response:
    if served.value is None:
        raise RecordNotFound(f"{what} not found")
    return _json(200, served.value, served.source)


# The path as the resolver matches it: percent-encoded, with only RFC 3986 path characters left as
# they are. API Gateway REST delivers `path` as the client sent it (encoded); a character a client
# sent raw (a quote, a space from a decoding proxy, UTF-8) is encoded here, so the route's segment
# is always encoded text and `_user_id` decodes it exactly once. "%" is kept: it starts an escape.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


def _encoded_path(path: str) -> str:
    return quote(path, safe=_PATH_SAFE)


def _user_id(raw: str) -> str:
    """The userId of a path segment: URL-decoded exactly once (`GET /users/ann%20smith` reads "ann smith")."""
    try:
        decoded = unquote(raw, errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"userId: the percent-escapes in {raw!r} are not UTF-8 text", ["userId"]) from exc
    return parse_data({"userId": decoded}, UserPath).userId


@app.post("/users")
def create_user() -> Response:
    req = parse_body(app.current_event.body, CreateUser)
    _ctx().flag.for_writes()
    return _json(201, _ctx().writes.register_user(req), "legacy")


@app.get("/users/<userId>")
def get_user(userId: str) -> Response:
    user_id = _user_id(userId)
    return _served(_ctx().reads.get_user(user_id), f"user {user_id!r}")


@app.get("/users")
def find_user() -> Response:
    email = app.current_event.get_query_string_value("email")
    if email is None:
        raise InvalidRequest("query parameter email is required: GET /users?email=someone@example.com", ["email"])
    parse_data({"email": email}, EmailQuery)  # validate; look up as given (legacy stores emails as typed)
    return _served(_ctx().reads.find_by_email(email), f"user with email {email!r}")


@app.get("/users/<userId>/orders")
def user_orders(userId: str) -> Response:
    user_id = _user_id(userId)
    served = _ctx().reads.orders_of(user_id)
    if served.value is None:
        raise RecordNotFound(f"user {user_id!r} not found")
    return _json(200, {"userId": user_id, "orders": served.value}, served.source)


@app.post("/orders")
def create_order() -> Response:
    req = parse_body(app.current_event.body, CreateOrder)
    _ctx().flag.for_writes()
    return _json(201, _ctx().writes.place_order(req), "legacy")


@app.exception_handler(AppError)
def _app_error(exc: AppError) -> Response:
    body: dict[str, Any] = {"message": str(exc)}
    if isinstance(exc, InvalidRequest):
        body["fields"] = exc.fields
    return _json(exc.status, body)


@app.exception_handler(FlagRefusesWrites)
def _writes_refused(exc: FlagRefusesWrites) -> Response:
    """503: the write may succeed once an operator fixes the flag; nothing was written."""
    return _json(503, {"message": str(exc)})


@app.not_found
def _no_route(exc: NotFoundError) -> Response:
    method, path = app.current_event.http_method, app.current_event.path
    allowed = next((methods for pattern, methods in ROUTES.items() if pattern.match(path)), None)
    if allowed is None:
        return _json(404, {"message": f"no route {method} {path}: the API serves {ROUTE_LIST}"})
    return _json(
        405,
        {"message": f"{method} is not allowed on {path}: use {' or '.join(allowed)}"},
        headers={"Allow": ", ".join(allowed)},
    )


@app.exception_handler([ClientError, BotoCoreError, PynamoDBException])
def _backend_error(exc: Exception) -> Response:
    _ctx().telemetry.event(
        BACKEND_UNAVAILABLE,
        "backend unavailable, answered 503",
        level="exception",
        error=f"{type(exc).__name__}: {exc}",
    )
    return _json(503, {"message": f"the database is unavailable ({type(exc).__name__}); retry shortly"})


def handle(event: dict[str, Any], context: Any, ctx: AppContext) -> dict[str, Any]:
    """Resolve one API Gateway event with an explicit context (local server, demo, tests)."""
    event = {**event, "path": _encoded_path(str(event.get("path") or "/"))}
    with _lock:
        app.append_context(app=ctx)
        return app.resolve(event, context)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point. The environment is validated once, at cold start."""
    rt = cold_start.get()
    try:
        return handle(event, context, rt.ctx)
    finally:
        rt.ctx.shadow.settle()  # a mismatch's evidence is written before Lambda freezes the process
        rt.metrics.flush_metrics()
