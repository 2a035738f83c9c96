"""Lambda environment variables: declared once, checked at synth and again at cold start.

CDK's environment builder (`infra/`) and each handler's cold-start check both call
`FunctionEnv.validate`, so the list of variables a function needs cannot drift between the
template and the code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cutover.errors import ConfigError
from cutover.stages import DEVELOPMENT, KNOWN_CLASSES, NAME_RE, NAME_RULE, PRODUCTION, STAGE_CLASSES, STAGING

PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,255}$")
_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$")


def is_name(value: str) -> bool:
    return bool(_NAME.match(value))


def is_arn(value: str) -> bool:
    return bool(_ARN.match(value))


def is_positive_int(value: str) -> bool:
    return value.isdigit() and int(value) > 0


def is_stage(value: str) -> bool:
    return bool(NAME_RE.match(value))


def is_stage_class(value: str) -> bool:
    return value in STAGE_CLASSES


def class_of(values: Mapping[str, str]) -> str:
    """The stage class the defaults follow: STAGE_CLASS if valid, else STAGE's known class, else
    production (cutover.stages); an invalid STAGE_CLASS is reported by `problems`."""
    explicit = values.get("STAGE_CLASS", "")
    return explicit if is_stage_class(explicit) else KNOWN_CLASSES.get(values.get("STAGE", ""), PRODUCTION)


@dataclass(frozen=True)
class EnvVar:
    name: str
    check: Callable[[str], bool] = is_name
    hint: str = "a table or resource name"
    required: bool = True
    defaults: Mapping[str, str] = field(default_factory=dict)  # per stage class; "*" for any class


@dataclass(frozen=True)
class FunctionEnv:
    """The environment one Lambda function needs."""

    function: str
    variables: tuple[EnvVar, ...]

    def with_defaults(self, values: Mapping[str, str], stage_class: str) -> dict[str, str]:
        out = dict(values)
        for var in self.variables:
            default = var.defaults.get(stage_class, var.defaults.get("*"))
            if var.name not in out and default is not None:
                out[var.name] = default
        return out

    def problems(self, values: Mapping[str, str]) -> list[str]:
        found: list[str] = []
        for var in self.variables:
            value = values.get(var.name)
            if value is None or value == "":
                if var.required:
                    found.append(f"{var.name} is missing (expected {var.hint})")
            elif PLACEHOLDER.search(value):
                found.append(f"{var.name}={value!r} still contains an unresolved ${{...}} placeholder")
            elif not var.check(value):
                found.append(f"{var.name}={value!r} is malformed (expected {var.hint})")
        return found

    def load(self, values: Mapping[str, str]) -> dict[str, str]:
        """What every handler calls at cold start: the stage class's declared defaults applied, then validated.

        Raises:
            ConfigError: naming every missing or malformed variable and any unresolved `${...}`.
        """
        return self.validate(self.with_defaults(values, class_of(values)))

    def validate(self, values: Mapping[str, str]) -> dict[str, str]:
        """Return the function's variables, or raise naming *every* problem at once."""
        problems = self.problems(values)
        if problems:
            raise ConfigError(
                f"{self.function}: environment is invalid: "
                + "; ".join(problems)
                + ". Fix the function's environment (CDK: infra/environment.py) and redeploy."
            )
        return {v.name: values[v.name] for v in self.variables if values.get(v.name)}


_LOG_LEVEL = EnvVar(
    "LOG_LEVEL",
    lambda v: v in ("DEBUG", "INFO", "WARNING", "ERROR"),
    "DEBUG|INFO|WARNING|ERROR",
    defaults={DEVELOPMENT: "DEBUG", STAGING: "INFO", PRODUCTION: "INFO"},
)
_COMMON = (
    EnvVar("SERVICE", hint="the service name"),
    EnvVar("STAGE", is_stage, f"a stage name: {NAME_RULE}"),
    # set by CDK (infra/config.py `stageClass`); absent: STAGE's known class, else production
    EnvVar("STAGE_CLASS", is_stage_class, "|".join(STAGE_CLASSES), required=False),
    EnvVar("POWERTOOLS_SERVICE_NAME", hint="the service name"),
    _LOG_LEVEL,
)


def is_source_tables(value: str) -> bool:
    """`{"<role>": "<table>", ...}`: each legacy table of the migration, by source role."""
    try:
        parsed = json.loads(value)
    except ValueError:
        return False
    return (
        isinstance(parsed, dict)
        and bool(parsed)
        and all(isinstance(k, str) and isinstance(v, str) and is_name(v) for k, v in parsed.items())
    )


def is_migration_spec(value: str) -> bool:
    return bool(_SPEC.match(value))


_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_DATA_TABLES = (
    EnvVar("SOURCE_TABLES", is_source_tables, 'JSON {"<role>": "<legacy table>", ...}'),
    EnvVar("V3_TABLE"),
    # the definition the function runs (bundled with it); absent: the seed migration
    EnvVar("CUTOVER_MIGRATION", is_migration_spec, "module:attribute", required=False),
)
_WRITE_CONCURRENCY = EnvVar("WRITE_CONCURRENCY", is_positive_int, "a positive integer", defaults={"*": "16"})

REPLICATOR_ENV = FunctionEnv(
    "replicator",
    (
        *_COMMON,
        *_DATA_TABLES,
        EnvVar("QUARANTINE_TABLE"),
        # where it reports what it applied (the same store `cutover sync` writes positions to)
        EnvVar("CHECKPOINTS_TABLE"),
        _WRITE_CONCURRENCY,
        # the event source's batch size: a batch smaller than it means the stream had nothing more
        EnvVar("STREAM_BATCH_SIZE", is_positive_int, "a positive integer", defaults={"*": "100"}),
    ),
)

BACKFILL_SEGMENT_ENV = FunctionEnv(
    "backfill-segment",
    (
        *_COMMON,
        *_DATA_TABLES,
        EnvVar("QUARANTINE_TABLE"),
        EnvVar("CHECKPOINTS_TABLE"),
        EnvVar("REPORTS_TABLE"),
        _WRITE_CONCURRENCY,
    ),
)

# Reconcile on AWS (reconciler/segment_lambda.py, reconciler/merge.py): the same tables as a local run.
_RECONCILE_VARIABLES = (
    *_COMMON,
    *_DATA_TABLES,
    EnvVar("QUARANTINE_TABLE"),
    EnvVar("CHECKPOINTS_TABLE"),
    EnvVar("REPORTS_TABLE"),
)
RECONCILE_SEGMENT_ENV = FunctionEnv("reconcile-segment", _RECONCILE_VARIABLES)
RECONCILE_RUN_ENV = FunctionEnv("reconcile-run", _RECONCILE_VARIABLES)  # begin (evidence) and merge

API_ENV = FunctionEnv(
    "api",
    (
        *_COMMON,
        *_DATA_TABLES,
        EnvVar("REPORTS_TABLE"),  # its flip control item is the read-source flag (controlplane.flag)
        EnvVar("READ_SOURCE_CACHE_SECONDS", is_positive_int, "a positive integer", defaults={"*": "10"}),
        # Stage-namespaced app secret, read at runtime via cutover.secrets (never plaintext in env).
        EnvVar("APP_SECRET_ARN", is_arn, "a Secrets Manager secret ARN", required=False),
    ),
)

ALL_FUNCTIONS = (REPLICATOR_ENV, BACKFILL_SEGMENT_ENV, RECONCILE_SEGMENT_ENV, RECONCILE_RUN_ENV, API_ENV)
