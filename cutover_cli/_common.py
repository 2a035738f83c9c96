"""Options and output every command shares."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, wraps
from typing import Any

import click

from cutover.clients import Clients
from cutover.settings import Settings


@dataclass
class Runtime:
    """What a command receives: validated settings, lazily-built clients and the output mode."""

    settings: Settings
    as_json: bool

    @cached_property
    def clients(self) -> Clients:
        return Clients(self.settings)

    def emit(self, data: Any, human: Callable[[], None] | None = None) -> None:
        """Print `data` as JSON with --json, else call `human` (or pretty-print data)."""
        if self.as_json:
            click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
        elif human is not None:
            human()
        else:
            click.echo(json.dumps(data, indent=2, default=str))


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --endpoint-url/--service/--stage/--region/--json and pass a `Runtime` as `rt`."""

    @click.option(
        "--endpoint-url",
        envvar="CUTOVER_ENDPOINT_URL",
        default=None,
        help="Local backend endpoint (e.g. http://127.0.0.1:5000). Omit for real AWS. [env CUTOVER_ENDPOINT_URL]",
    )
    @click.option(
        "--service",
        envvar="CUTOVER_SERVICE",
        default="my-service",
        show_default=True,
        help="Service name used in every resource name.",
    )
    @click.option(
        "--stage", envvar="CUTOVER_STAGE", default="dev", show_default=True, help="Stage: dev, staging or prod."
    )
    @click.option("--region", default=None, help="AWS region (default: boto3's chain, then us-east-1).")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
    @wraps(func)
    def wrapper(
        *args: Any, endpoint_url: str | None, service: str, stage: str, region: str | None, as_json: bool, **kwargs: Any
    ) -> Any:
        settings = Settings(service=service, stage=stage, region=region, endpoint_url=endpoint_url)
        return func(*args, rt=Runtime(settings, as_json), **kwargs)

    return wrapper
