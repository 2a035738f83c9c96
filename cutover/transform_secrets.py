"""The secrets a migration's transforms need, read once per process at their pinned versions.

A transform is a deterministic function of (item, secret versions): a rotation picked up by a
cache expiry would make every reconcile report differences, so a secret is read by its pinned
version (`Secret.selector()`, `name:version`, SSM GetParameter) and kept for the life of the
process. The pin is the definition's `Secret.version` until an operator rotates the secret
(`cutover secrets rotate`, recorded by `cutover.secret_pins`), then the recorded one. Names live
under `/{service}/{stage}/`: a function refuses a parameter outside its own stage, so a staging
function can never be handed a production key (the seed's third lesson). Local backends (moto,
dynalite) use each secret's `test_value`, unless it was rotated there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cutover.errors import ConfigError
from cutover.migration import Migration, Secret, Secrets


def read_pinned(
    migration: Migration, ssm: Any, service: str, stage: str, recorded: Mapping[str, int] | None = None
) -> Secrets:
    """Every declared secret at its pinned version: the `recorded` rotation (`cutover.secret_pins`),
    else the definition's. Each is checked to belong to `service`/`stage`.

    Raises:
        ConfigError: a parameter outside `/{service}/{stage}/`, or one that cannot be read.
    """
    versions = {s.name: (recorded or {}).get(s.name, s.version) for s in migration.secrets}
    values = {s.name: read_version(s, versions[s.name], ssm, service, stage) for s in migration.secrets}
    return Secrets(values, versions)


def read_version(secret: Secret, version: int, ssm: Any, service: str, stage: str) -> str:
    """One secret at one version (`name:version`), refused unless it lives under `/{service}/{stage}/`."""
    name = secret.parameter_name(service, stage)
    if not name.startswith(f"/{service}/{stage}/"):
        raise ConfigError(
            f"secret {secret.name!r} is {name}, outside /{service}/{stage}/: a function reads only its own "
            "stage's secrets; fix Secret.parameter in the migration definition"
        )
    selector = secret.selector(service, stage, version)
    try:
        resp = ssm.get_parameter(Name=selector, WithDecryption=True)
    except Exception as exc:
        raise ConfigError(
            f"cannot read secret {secret.name!r} ({selector}): {exc}. Create the SecureString at that version "
            "(runbooks/deploy.md) or pin the version that exists"
        ) from exc
    return str(resp["Parameter"]["Value"])


def bind(
    migration: Migration,
    *,
    local: bool,
    ssm: Callable[[], Any],
    service: str,
    stage: str,
    dynamodb: Callable[[], Any] | None = None,
) -> None:
    """Bind the process's secret reader (read lazily, then kept): SSM on AWS at the pinned versions,
    test values on a local backend except for a secret rotated there (SSM at the recorded version).

    The pins are read with the secrets, from cutover's checkpoints table through `dynamodb`: a
    rotation recorded later is picked up by the next process (a cold start), never by this one.
    """
    if not migration.secrets:
        return

    def recorded() -> Mapping[str, int]:
        return {} if dynamodb is None else recorded_pins(migration, dynamodb(), service, stage, local=local)

    if local:
        migration.bind_secrets(lambda: _local(migration, recorded(), ssm, service, stage))
    else:
        migration.bind_secrets(lambda: read_pinned(migration, ssm(), service, stage, recorded()))


def recorded_pins(migration: Migration, dynamodb: Any, service: str, stage: str, *, local: bool) -> Mapping[str, int]:
    """The versions operators rotated to (`cutover.secret_pins`); a local backend without
    cutover's tables (`cutover init` not run) has none."""
    from botocore.exceptions import ClientError

    from cutover.names import Names
    from cutover.secret_pins import PinStore
    from cutover.state import CheckpointStore

    table = Names(service, stage, (), migration).checkpoints_table
    try:
        return PinStore(CheckpointStore(dynamodb, table), migration).recorded()
    except ClientError as exc:
        if local and exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return {}
        raise


def _local(
    migration: Migration, recorded: Mapping[str, int], ssm: Callable[[], Any], service: str, stage: str
) -> Secrets:
    test = migration.test_secrets()
    if not recorded:
        return test
    client = ssm()
    values = {
        n: read_version(migration.secret(n), recorded[n], client, service, stage) if n in recorded else test[n]
        for n in test
    }
    return Secrets(values, {**test.versions, **recorded})


def bind_clients(migration: Migration, clients: Any) -> None:
    """`bind` for a Lambda at cold start: its own clients, settings and stage."""
    settings = clients.settings
    bind(migration, local=settings.is_local, ssm=lambda: clients.client("ssm"), service=settings.service,
         stage=settings.stage, dynamodb=lambda: clients.dynamodb)  # fmt: skip
