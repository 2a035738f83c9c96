"""`cutover api`: the app's Lambda handler code, served on loopback for curl."""

from __future__ import annotations

import click

from cutover.errors import ConfigError
from cutover_cli._common import Runtime, common_options


@click.command("api")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Loopback port (0: any free port)."
)
@click.option(
    "--cache-seconds",
    type=click.IntRange(0),
    default=10,
    show_default=True,
    help="How long the read-source flag is cached (as in the Lambda).",
)
@common_options
def command(rt: Runtime, port: int, cache_seconds: int) -> None:
    """Serve the seed migration's example API on 127.0.0.1, turning each HTTP request into the API
    Gateway REST event the Lambda receives and running the same handler, against the configured
    backend.

    The backend (tables and the read-source parameter) is checked first; a failure exits 2 with
    one line. `ready http://127.0.0.1:PORT` is printed on stdout once requests are served, so a
    script can wait for that line instead of polling the port.

    Try: curl -s localhost:8080/users/USER_ID
         curl -s -XPOST localhost:8080/users -d '{"email":"a@b.co","name":"A"}'
    """
    # Imported here, not at module level: every `cutover` command imports this module on startup.
    from app_handlers.api import handle
    from app_handlers.context import AppConfig, build_context
    from cutover_cli.http_bridge import check_backend, make_server

    config = AppConfig.from_settings(rt.settings, cache_seconds)
    check_backend(rt.clients, (*config.tables, config.reports_table))  # one line, exit 2 (cutover_cli.app)
    ctx = build_context(config, rt.clients)
    try:
        server = make_server(lambda event: handle(event, None, ctx), port)
    except OSError as exc:
        raise ConfigError(
            f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}. Pick another --port (0: any free port)"
        ) from exc
    host, bound = str(server.server_address[0]), server.server_address[1]
    click.echo(
        f"serving the API (read-source from {config.reports_table} flip/control); Ctrl-C to stop",
        err=True,
    )
    try:
        server.serve_forever(ready=lambda: click.echo(f"ready http://{host}:{bound}"))
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    finally:
        server.server_close()
