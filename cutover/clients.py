"""The one factory for AWS clients. It alone knows about the endpoint.

Real AWS uses boto3's standard credential chain and region resolution (fallback us-east-1).
A local endpoint (moto) gets placeholder credentials only when the chain finds none, so the same
code runs unchanged against both: local is a backend choice, not a fork.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any, Literal

import boto3
from botocore.config import Config

from cutover.settings import DEFAULT_REGION, Settings

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    max_pool_connections=64,
    connect_timeout=5,
    read_timeout=30,
)


Service = Literal["dynamodb", "dynamodbstreams", "ssm", "sqs", "stepfunctions", "secretsmanager", "cloudwatch"]


class Clients:
    """Lazily-built, thread-safe boto3 clients for one Settings."""

    def __init__(self, settings: Settings, config: Config | None = None) -> None:
        self.settings = settings
        self._config = config or _CONFIG
        self._lock = threading.Lock()

    @cached_property
    def session(self) -> boto3.session.Session:
        session = boto3.session.Session(region_name=self.settings.region)
        if session.region_name is None:
            session = boto3.session.Session(region_name=DEFAULT_REGION)
        if self.settings.is_local and session.get_credentials() is None:
            session = boto3.session.Session(
                region_name=session.region_name, aws_access_key_id="local", aws_secret_access_key="local"
            )
        return session

    @property
    def region(self) -> str:
        return self.session.region_name or DEFAULT_REGION

    def client(self, service: Service) -> Any:
        with self._lock:
            return self.session.client(service, endpoint_url=self.settings.endpoint_for(service), config=self._config)

    @cached_property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    @cached_property
    def streams(self) -> Any:
        return self.client("dynamodbstreams")

    @cached_property
    def ssm(self) -> Any:
        return self.client("ssm")

    @cached_property
    def sqs(self) -> Any:
        return self.client("sqs")
