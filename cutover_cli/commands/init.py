"""`cutover init`: create missing resources on a local endpoint."""

from __future__ import annotations

import click

from cutover_cli._common import Runtime, common_options


@click.command("init")
@click.option(
    "--wait",
    type=click.FloatRange(0, 600),
    default=0,
    show_default=True,
    help="Seconds to wait for the endpoint to accept connections first (e.g. right after `cutover local &`).",
)
@common_options
def command(rt: Runtime, wait: float) -> None:
    """Create what the migration definition declares, where missing: a legacy table per source
    role (with its GSIs and a stream), the target table (v3) with its GSIs, cutover's own tables,
    the on-failure queues and the read-source parameter.

    Only for a local endpoint (--endpoint-url); refuses real AWS, where CDK owns the resources.
    """
    from cutover_cli.local_backend import init_backend, wait_for_endpoint

    if wait and rt.requested.endpoint_url:
        wait_for_endpoint(rt.requested.endpoint_url, wait)
    created = init_backend(rt.requested, rt.clients)
    rt.emit(
        {"endpoint": rt.requested.endpoint_url, "created": created},
        lambda: click.echo(
            f"{rt.requested.endpoint_url}: created {len(created)}: {', '.join(created) or 'nothing (all present)'}"
        ),
    )
