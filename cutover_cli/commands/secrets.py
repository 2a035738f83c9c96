"""`cutover secrets status|rotate`: which version of each transform secret is pinned, and rotating one.

A transform is a deterministic function of (item, secret versions), so rotating is an explicit
decision, recorded (`cutover.secret_pins`) and followed by a full repair before v3 may serve
(the flip gate holds until one started after it: `controlplane.gate_secrets`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import click

from cutover.errors import ConfigError, CutoverError
from cutover_cli._common import Runtime, common_options


class RotationConflictError(CutoverError):
    """Another rotation of the same secret landed between this one's read and its write."""


@click.group("secrets")
def command() -> None:
    """The secrets the migration's transforms need, each pinned by version (runbooks/deploy.md)."""


def _pins(rt: Runtime) -> Any:
    from cutover.secret_pins import PinStore
    from cutover.state import CheckpointStore

    names = rt.settings.names
    return PinStore(CheckpointStore(rt.clients.dynamodb, names.checkpoints_table), names.migration)


@command.command("status")
@common_options
def status(rt: Runtime) -> None:
    """Each declared secret: the version transforms read now, the definition's, and when it was rotated."""
    rows = [p.to_dict() for p in _pins(rt).pins()]

    def human() -> None:
        if not rows:
            click.echo(f"migration {rt.settings.names.migration.name!r} declares no secrets")
        for r in rows:
            when = (
                f"rotated {r['rotated_at']} from version {r['previous_version']}"
                if r["rotated_at"]
                else "never rotated"
            )
            click.echo(f"{r['secret']}: version {r['version']} (definition: {r['declared_version']}; {when})")

    rt.emit(rows, human)


@command.command("rotate")
@click.argument("name")
@click.option("--to-version", type=click.IntRange(min=1), required=True, help="The SSM parameter version to pin.")
@click.option("--reason", default=None, help="Why: recorded with the rotation.")
@common_options
def rotate(rt: Runtime, name: str, to_version: int, reason: str | None) -> None:
    """Pin secret NAME at SSM version --to-version, for every process that starts from now on.

    The version must exist (GetParameter NAME:VERSION, under this stage's path). Recorded with
    the backend's time as a compare-and-set: if another rotation lands first, this one fails
    (exit 2) and changes nothing. Warm Lambdas keep the old version until they cold-start; the
    flip to v3 is refused until a full `cutover reconcile --repair` started after the rotation
    is clean.
    """
    from controlplane.flipper import operator
    from cutover import transform_secrets
    from cutover.state import ReportStore

    settings = rt.settings
    migration = settings.names.migration
    if name not in {s.name for s in migration.secrets}:
        declared = ", ".join(s.name for s in migration.secrets) or "none"
        raise ConfigError(f"migration {migration.name!r} has no secret {name!r}: use one of {declared}")
    secret = migration.secret(name)
    store = _pins(rt)
    current = store.pin(secret)
    if current.version == to_version:
        raise ConfigError(f"secret {name!r} is already pinned at version {to_version}: nothing to rotate")
    try:
        transform_secrets.read_version(secret, to_version, rt.clients.ssm, settings.service, settings.stage)
    except ConfigError:
        selector = secret.selector(settings.service, settings.stage, to_version)
        raise ConfigError(
            f"secret {name!r} has no readable version {to_version} ({selector}): put the new value first "
            f"(`aws ssm put-parameter --name {secret.parameter_name(settings.service, settings.stage)} --type "
            "SecureString --overwrite`) and rotate to the version it returns"
        ) from None
    # The backend's Date header is whole seconds: round up, so a repair that started before the
    # rotation can never appear to have started after it.
    backend = ReportStore(rt.clients.dynamodb, settings.names.reports_table).server_time()
    at = (backend + timedelta(seconds=1)) if backend else datetime.now(UTC)
    stamp = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if not store.rotate(current, to_version, stamp, operator(rt.clients, settings.is_local), reason):
        now = store.pin(secret)
        raise RotationConflictError(
            f"another rotation of {name!r} landed first (now version {now.version}, at {now.rotated_at}): "
            "check `cutover secrets status` and rotate again if still needed"
        )
    pin = store.pin(secret)
    data = {**pin.to_dict(), "parameter": secret.selector(settings.service, settings.stage, to_version)}

    def human() -> None:
        click.echo(f"{name}: version {current.version} -> {to_version} (recorded {stamp})")
        click.echo(
            f"warm Lambdas keep version {current.version} until they cold-start: start new environments "
            "(runbooks/deploy.md, rotating a transform secret), then run `cutover reconcile --repair`; "
            "the flip to v3 waits for it"
        )

    rt.emit(data, human)
