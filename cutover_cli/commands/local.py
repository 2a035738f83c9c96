"""`cutover local`: run the embedded backend (moto server) in the foreground."""

from __future__ import annotations

import logging
import signal
import sys
import threading

import click

from cutover.settings import Settings
from cutover_cli._common import STAGE, STAGE_HELP

LOCAL_REGION = "us-east-1"  # moto answers in any region; the aws CLI needs one named


@click.command("local")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=5000,
    show_default=True,
    help="Port on 127.0.0.1 to listen on (0 picks a free one).",
)
@click.option(
    "--service",
    envvar="CUTOVER_SERVICE",
    default="my-service",
    show_default=True,
    help="Service name used in every resource name.",
)
@click.option(
    "--stage",
    envvar="CUTOVER_STAGE",
    type=STAGE,
    default="dev",
    show_default=True,
    help=STAGE_HELP,
)
@click.option(
    "--migration",
    envvar="CUTOVER_MIGRATION",
    show_envvar=True,
    default=None,
    metavar="MODULE:ATTRIBUTE",
    help="The migration definition whose tables to create (default: [tool.cutover] migration in "
    "pyproject.toml, then the seed migration).",
)
@click.option(
    "--engine",
    type=click.Choice(("moto", "dynalite")),
    default="moto",
    show_default=True,
    help="DynamoDB engine. dynalite (stricter, faster at size) serves DynamoDB only: Streams, SSM and SQS "
    "stay on moto, so `cutover sync` has no streams to read; use it for backfill, reconcile and the API.",
)
def command(port: int, service: str, stage: str, migration: str | None, engine: str) -> None:
    """Run a local DynamoDB/Streams/SSM backend (moto) on 127.0.0.1 until Ctrl-C.

    Creates the migration's legacy tables (one per source role, with streams), its target (v3)
    table, cutover's own tables and the read-source parameter, prints the endpoint, then blocks.
    State is kept IN MEMORY only: everything is lost when this process stops. Point other commands at it with
    --endpoint-url or `export CUTOVER_ENDPOINT_URL=...`.
    """
    from cutover.clients import Clients
    from cutover_cli.local_backend import DynaliteServer, LocalServer, init_backend

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = LocalServer(port=port)
    server.start()  # a taken port is a ConfigError: one line, exit 2
    dynamodb = DynaliteServer() if engine == "dynalite" else None
    try:
        if dynamodb is not None:
            dynamodb.start()
        settings = Settings(
            service=service,
            stage=stage,
            region=LOCAL_REGION,
            endpoint_url=server.endpoint_url,
            dynamodb_endpoint_url=dynamodb.endpoint_url if dynamodb else None,
            migration=migration or None,
        )
        created = init_backend(settings, Clients(settings))
        click.echo(f"cutover local backend listening on {server.endpoint_url} (state in memory, lost on exit)")
        click.echo(
            f"created {len(created)} resources for {service}-{stage} ({settings.names.migration.name} migration)"
        )
        click.echo(f"export CUTOVER_ENDPOINT_URL={server.endpoint_url}")
        if dynamodb is not None:
            click.echo(f"export CUTOVER_DYNAMODB_ENDPOINT_URL={dynamodb.endpoint_url}")
        if migration:
            click.echo(f"export CUTOVER_MIGRATION={migration}")
        click.echo(f"export AWS_DEFAULT_REGION={LOCAL_REGION} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local")
        click.echo("Ctrl-C to stop.")
        sys.stdout.flush()  # scripts wait for these lines; a pipe would otherwise hold them back
        _wait_for_signal()
        click.echo("stopped; in-memory state discarded", err=True)
    finally:
        if dynamodb is not None:
            dynamodb.stop()
        server.stop()


def _wait_for_signal() -> None:
    """Block until Ctrl-C (SIGINT) or SIGTERM, so both stop the server cleanly."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(1.0):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
