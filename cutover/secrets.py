"""Stage-checked secrets, read at runtime by ARN with caching (Powertools parameters).

Secrets reach functions only as ARNs in environment variables, never as plaintext (templates
and env vars are visible to anyone who can describe the stack). Names follow
`/{stage}/{service}/...`; a function refuses a secret whose stage segment differs from its own
STAGE, so a staging function handed a production ARN fails loudly instead of using prod keys.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Literal

from cutover.errors import ConfigError

DEFAULT_MAX_AGE_SECONDS = 300
_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:(?P<name>.+)$")
_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")  # random suffix Secrets Manager appends to full ARNs


def secret_name(secret_id: str) -> str:
    """The secret's name from a full ARN, a partial ARN (no suffix) or a plain name."""
    match = _ARN.match(secret_id)
    if not match:
        return secret_id
    # A full ARN ends in -XXXXXX (random); stripping it cannot change the stage segment.
    return _SUFFIX.sub("", match.group("name"))


def check_stage(secret_id: str, stage: str) -> str:
    """Return the secret's name if it is namespaced for `stage`, else raise.

    Raises:
        ConfigError: the name is not `/{stage}/{service}/...` or its stage is not `stage`.
    """
    name = secret_name(secret_id)
    parts = name.split("/")
    if len(parts) < 4 or parts[0] != "" or not all(parts[1:]):
        raise ConfigError(f"secret {name!r} is not stage-namespaced: name it /{stage}/<service>/<name>")
    if parts[1] != stage:
        raise ConfigError(
            f"secret {name!r} belongs to stage {parts[1]!r} but this function runs in stage {stage!r}: "
            f"point the function at the /{stage}/... secret (never share secrets across stages)"
        )
    return name


def get_stage_secret(
    env_var: str,
    environ: Mapping[str, str] | None = None,
    *,
    max_age: int = DEFAULT_MAX_AGE_SECONDS,
    transform: Literal["json"] | None = None,
) -> Any:
    """Read the secret whose ARN is in `env_var`, after checking it belongs to our STAGE.

    `transform="json"` decodes a JSON secret. Values are cached for `max_age` seconds by
    Powertools, so a rotation is picked up without a redeploy and without a call per request.

    Raises:
        ConfigError: the variable or STAGE is missing, or the secret is for another stage.
    """
    env = os.environ if environ is None else environ
    secret_id, stage = env.get(env_var), env.get("STAGE")
    if not secret_id:
        raise ConfigError(f"{env_var} is not set: deploy the function with the secret's ARN (infra/)")
    if not stage:
        raise ConfigError("STAGE is not set: every cutover function declares it (cutover/environment.py)")
    check_stage(secret_id, stage)
    from aws_lambda_powertools.utilities.parameters import get_secret  # lazy: only where secrets are used

    if transform == "json":
        return get_secret(secret_id, max_age=max_age, transform="json")
    return get_secret(secret_id, max_age=max_age)
