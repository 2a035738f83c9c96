"""`cutover init`: create missing resources on a local endpoint."""

from __future__ import annotations

import click

from cutover_cli._common import Runtime, common_options
from cutover_cli.local_backend import init_backend


@click.command("init")
@common_options
def command(rt: Runtime) -> None:
    """Create the legacy, v3 and cutover tables and the read-source parameter where missing.

    Only for a local endpoint (--endpoint-url); refuses real AWS, where CDK owns the resources.
    """
    created = init_backend(rt.settings, rt.clients)
    rt.emit(
        {"endpoint": rt.settings.endpoint_url, "created": created},
        lambda: click.echo(
            f"{rt.settings.endpoint_url}: created {len(created)}: {', '.join(created) or 'nothing (all present)'}"
        ),
    )
