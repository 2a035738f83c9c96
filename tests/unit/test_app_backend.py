"""A backend that cannot be reached is logged as such, not as an invalid read-source flag."""

from __future__ import annotations

import io
import json
import logging

from aws_lambda_powertools import Logger
from botocore.config import Config

from app_handlers.api import handle
from app_handlers.context import AppConfig, build_context
from cutover.clients import Clients
from cutover.settings import Settings
from cutover_cli.http_bridge import to_event


def test_an_unreachable_backend_is_503_logged_as_unavailable_not_as_a_bad_flag():
    # Given an API whose endpoint nothing listens on (one attempt per call, to keep the test short)
    settings = Settings(service="down", region="us-east-1", endpoint_url="http://127.0.0.1:1")
    clients = Clients(settings, Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=1))
    logs = io.StringIO()
    logger = Logger(service="down", logger_handler=logging.StreamHandler(logs))
    ctx = build_context(AppConfig.from_settings(settings, cache_seconds=0), clients, logger=logger)
    # When a request arrives
    resp = handle(to_event("GET", "/users/u1", {}, None), None, ctx)
    # Then 503 "retry shortly", and the logs name the unreachable backend, never an invalid flag
    assert resp["statusCode"] == 503 and "retry shortly" in json.loads(resp["body"])["message"]
    counts = ctx.telemetry.counts
    assert (counts["FlagInvalid"], counts["FlagUnreadable"], counts["BackendUnavailable"]) == (0, 1, 1)
    events = [json.loads(line) for line in logs.getvalue().splitlines() if line.startswith("{")]
    unreadable = [e for e in events if e.get("metric") == "FlagUnreadable"]
    assert unreadable and "EndpointConnectionError" in unreadable[0]["error"]
