"""The typed environment builder for Lambda functions.

Uses the SAME `cutover.environment.FunctionEnv` declarations each handler validates at cold
start, so the variables CDK sets and the variables the code needs are one list, not two.
Synth fails (ConfigError) naming every missing variable and every literal `${...}` placeholder.

CDK tokens (a table name that CloudFormation resolves at deploy time) stringify as
`${Token[...]}`: they are real values, not forgotten placeholders, so they skip the placeholder
and format checks; literal strings get both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import Token

from cutover.environment import PLACEHOLDER, FunctionEnv
from cutover.errors import ConfigError

_TOKEN = re.compile(r"\$\{Token\[[^\]]*\]\}")


def build_environment(env: FunctionEnv, values: Mapping[str, str], stage_class: str) -> dict[str, str]:
    """Apply the stage class's defaults, validate, and return the function's environment.

    Raises:
        ConfigError: naming every missing/malformed variable or unresolved `${...}` placeholder,
            or any variable that is not declared (a typo would otherwise be silently ignored).
    """
    full = env.with_defaults(values, stage_class)
    declared = {v.name for v in env.variables}
    problems = [
        f"{name} is not declared for {env.function} (add it to cutover/environment.py)"
        for name in sorted(set(full) - declared)
    ]
    for var in env.variables:
        value = full.get(var.name)
        if isinstance(value, str) and Token.is_unresolved(value):
            # Resolved by CloudFormation at deploy time; only literal text around it is checked.
            if PLACEHOLDER.search(_TOKEN.sub("", value)):
                problems.append(f"{var.name}={value!r} still contains an unresolved ${{...}} placeholder")
            continue
        problems += FunctionEnv(env.function, (var,)).problems(full)
    if problems:
        raise ConfigError(
            f"{env.function}: environment is invalid: "
            + "; ".join(problems)
            + ". Fix the values passed to build_environment (infra/) and synth again."
        )
    return {name: full[name] for name in declared if full.get(name)}
