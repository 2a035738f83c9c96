"""The secrets a migration's transforms need, read once per process at their pinned versions.

A transform is a deterministic function of (item, secret versions): a rotation picked up by a
cache expiry would make every reconcile report differences, so a secret is read by its pinned
version (`Secret.selector()`, `name:version`, SSM GetParameter) and kept for the life of the
process. Names live under `/{service}/{stage}/`: a function refuses a parameter outside its own
stage, so a staging function can never be handed a production key (the seed's third lesson).
Local backends (moto, dynalite) use each secret's `test_value`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cutover.errors import ConfigError
from cutover.migration import Migration, Secrets


def read_pinned(migration: Migration, ssm: Any, service: str, stage: str) -> Secrets:
    """Every declared secret at its pinned version, each checked to belong to `service`/`stage`.

    Raises:
        ConfigError: a parameter outside `/{service}/{stage}/`, or one that cannot be read.
    """
    values: dict[str, str | bytes] = {}
    for secret in migration.secrets:
        name = secret.parameter_name(service, stage)
        if not name.startswith(f"/{service}/{stage}/"):
            raise ConfigError(
                f"secret {secret.name!r} is {name}, outside /{service}/{stage}/: a function reads only its own "
                "stage's secrets; fix Secret.parameter in the migration definition"
            )
        try:
            resp = ssm.get_parameter(Name=secret.selector(service, stage), WithDecryption=True)
        except Exception as exc:
            raise ConfigError(
                f"cannot read secret {secret.name!r} ({secret.selector(service, stage)}): {exc}. Create the "
                "SecureString at that version (runbooks/deploy.md) or pin the version that exists"
            ) from exc
        values[secret.name] = str(resp["Parameter"]["Value"])
    return Secrets(values, {s.name: s.version for s in migration.secrets})


def bind(migration: Migration, *, local: bool, ssm: Callable[[], Any], service: str, stage: str) -> None:
    """Bind the process's secret reader: test values on a local backend, SSM on AWS (read lazily)."""
    if not migration.secrets:
        return
    if local:
        migration.bind_secrets(migration.test_secrets)
    else:
        migration.bind_secrets(lambda: read_pinned(migration, ssm(), service, stage))


def bind_clients(migration: Migration, clients: Any) -> None:
    """`bind` for a Lambda at cold start: its own clients, settings and stage."""
    settings = clients.settings
    bind(migration, local=settings.is_local, ssm=lambda: clients.client("ssm"), service=settings.service,
         stage=settings.stage)  # fmt: skip
