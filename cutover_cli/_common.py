"""Options and output every command shares.

Nothing here imports the AWS SDK at module level: every `cutover` command, and `--help`, loads this
module, and boto3 alone costs about half a second of CPU. Clients are built on first use.
"""

from __future__ import annotations

import json
import re
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property, wraps
from typing import TYPE_CHECKING, Any

import click

from cutover.errors import ConfigError
from cutover.settings import Settings
from cutover.stages import NAME_RULE, name_problem

if TYPE_CHECKING:
    from cutover.clients import Clients


@dataclass
class Runtime:
    """What a command receives: validated settings, lazily-built clients and the output mode."""

    requested: Settings  # as given; `settings` adds what the deployment published (commands that never
    as_json: bool  # touch a deployment, like `demo` and `init`, use `requested`)

    @cached_property
    def clients(self) -> Clients:
        from cutover.clients import Clients  # the SDK, only once a command needs a client

        return Clients(self.requested)

    @cached_property
    def settings(self) -> Settings:
        """The requested settings, with the legacy table names a deployment published (on AWS),
        unless given explicitly: the one place the CLI learns which tables it works on."""
        return resolve_published_names(self.requested, self.clients)

    def emit(self, data: Any, human: Callable[[], None] | None = None) -> None:
        """Print `data` as JSON with --json, else call `human` (or pretty-print data)."""
        from cutover.codec import json_default

        if self.as_json:
            click.echo(json.dumps(data, indent=2, sort_keys=True, default=json_default))
        elif human is not None:
            human()
        else:
            click.echo(json.dumps(data, indent=2, default=json_default))


_ACTIVE: list[Runtime] = []


def active_runtime() -> Runtime | None:
    """The runtime of the command being run (for error messages naming its tables and --json)."""
    return _ACTIVE[-1] if _ACTIVE else None


class StageName(click.ParamType):
    """Any stage name AWS's naming rules allow (cutover.stages), not a fixed list: `--stage qa` works.
    (Its length together with --service is checked when the settings are built.)"""

    name = "stage"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "STAGE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if name_problem("stage", text):
            self.fail(f"{text!r} is not a stage name: use {NAME_RULE}", param, ctx)
        return text


STAGE = StageName()
STAGE_HELP = (
    "Stage: any name of 1-40 lower-case letters, digits and '-' (dev, staging, prod, qa, live...); "
    "it is part of every resource name."
)


_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


class LegacyTable(click.ParamType):
    """`ROLE=NAME`: one source role's hand-named legacy table. The roles are the definition's, so
    they are checked once the definition is loaded (`check_legacy_roles`), not here."""

    name = "ROLE=NAME"
    envvar_list_splitter = ","  # CUTOVER_LEGACY_TABLES=<role>=<table>,<role>=<table>

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, str]:
        if isinstance(value, tuple):
            return value
        role, sep, table = str(value).strip().partition("=")
        if not sep or not role or not _TABLE_NAME.match(table):
            self.fail(
                f"{value!r} is not ROLE=NAME with a DynamoDB table name (3-255 of A-Za-z0-9_.-): "
                "write --legacy-table ROLE=NAME: a source role of the migration, then its legacy table's name",
                param,
                ctx,
            )
        return role, table


LEGACY_TABLE = LegacyTable()
_OPTIONS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (
        ("--endpoint-url",),
        {
            "envvar": "CUTOVER_ENDPOINT_URL",
            "show_envvar": True,
            "default": None,
            "help": "Local backend endpoint (e.g. http://127.0.0.1:5000). Omit for real AWS.",
        },
    ),
    (
        ("--dynamodb-endpoint-url",),
        {
            "envvar": "CUTOVER_DYNAMODB_ENDPOINT_URL",
            "show_envvar": True,
            "default": None,
            "help": "DynamoDB alone on another local endpoint (dynalite: `cutover local --engine dynalite`).",
        },
    ),
    (
        ("--service",),
        {
            "envvar": "CUTOVER_SERVICE",
            "show_envvar": True,
            "default": "my-service",
            "show_default": True,
            "help": "Service name used in every resource name.",
        },
    ),
    (
        ("--stage",),
        {
            "envvar": "CUTOVER_STAGE",
            "show_envvar": True,
            "type": STAGE,
            "default": "dev",
            "show_default": True,
            "help": STAGE_HELP,
        },
    ),
    (("--region",), {"default": None, "help": "AWS region (default: boto3's chain, then us-east-1)."}),
    (
        ("--migration",),
        {
            "envvar": "CUTOVER_MIGRATION",
            "show_envvar": True,
            "default": None,
            "metavar": "MODULE:ATTRIBUTE",
            "help": "The migration definition (default: [tool.cutover] migration in pyproject.toml, then the "
            "seed migration).",
        },
    ),
    (
        ("--legacy-table", "legacy_tables"),
        {
            "envvar": "CUTOVER_LEGACY_TABLES",
            "show_envvar": True,
            "multiple": True,
            "type": LEGACY_TABLE,
            "metavar": "ROLE=NAME",
            "help": "A source role's legacy table, if not the definition's name for it (repeatable; the "
            "environment variable takes role=name,role=name; default: what the deployment published).",
        },
    ),
    (("--json", "as_json"), {"is_flag": True, "default": False, "help": "Machine-readable JSON output (errors too)."}),
)
_NAMES = (
    "endpoint_url",
    "dynamodb_endpoint_url",
    "service",
    "stage",
    "region",
    "migration",
    "legacy_tables",
    "as_json",
)


def _add_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for decls, attrs in reversed(_OPTIONS):
        func = click.option(*decls, **attrs)(func)
    return func


def global_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The same options on the group, so `cutover --stage prod status` works like `cutover status --stage prod`."""

    @_add_options
    @wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        ctx = click.get_current_context()
        ctx.meta["cutover.global"] = {
            name: kwargs[name]
            for name in _NAMES
            if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
        }
        return func(**{k: v for k, v in kwargs.items() if k not in _NAMES})

    return wrapper


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --endpoint-url/--service/--stage/--region/--migration/--legacy-table/--json and pass a
    `Runtime` as `rt`.

    A value given on the command line wins; else one given before the command (`cutover --stage
    prod status`); else the environment variable; else the default.
    """

    @_add_options
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        given_globally = ctx.meta.get("cutover.global", {})
        values = {}
        for name in _NAMES:
            value = kwargs.pop(name)
            source = ctx.get_parameter_source(name)
            if name in given_globally and source is not click.core.ParameterSource.COMMANDLINE:
                value = given_globally[name]
            elif name == "migration" and source is click.core.ParameterSource.ENVIRONMENT:
                value = None  # the loader reads CUTOVER_MIGRATION itself, and names it in its errors
            values[name] = value
        settings = Settings(
            service=values["service"],
            stage=values["stage"],
            region=values["region"],
            endpoint_url=values["endpoint_url"],
            dynamodb_endpoint_url=values["dynamodb_endpoint_url"],
            legacy_tables=check_legacy_roles(values["legacy_tables"], values["migration"]),
            migration=values["migration"] or None,
        )
        runtime = Runtime(settings, values["as_json"])
        _ACTIVE.append(runtime)
        return func(*args, rt=runtime, **kwargs)

    return wrapper


def check_legacy_roles(given: tuple[tuple[str, str], ...], spec: str | None) -> tuple[tuple[str, str], ...]:
    """The --legacy-table values, checked against the definition's source roles (one line naming
    them), each role at most once. Loads the definition only when a table is given.

    Raises:
        ConfigError: a role the migration does not have, or one role given twice.
    """
    if not given:
        return ()
    from cutover.migration_loader import load_migration

    migration = load_migration(spec or None)
    seen: dict[str, str] = {}
    for role, table in given:
        if role not in migration.roles:
            raise ConfigError(
                f"--legacy-table {role}={table}: migration {migration.name!r} has no source role {role!r}: "
                f"use one of {', '.join(migration.roles)}"
            )
        if role in seen and seen[role] != table:
            raise ConfigError(f"--legacy-table names {role} twice ({seen[role]}, {table}): give each role once")
        seen[role] = table
    return tuple(sorted(seen.items()))


def resolve_published_names(settings: Settings, clients: Clients) -> Settings:
    """Fill the legacy table names from the deployment's published names (SSM), where not given.

    Local backends have no deployment: their names are derived. On AWS a missing parameter means
    a deployment that publishes nothing (derived names); a parameter that exists but cannot be
    read, or that names other source roles than this run's definition (the deployment runs
    another migration), is an error, never a silent fallback to names that may be the wrong tables.
    """
    names = settings.names
    if settings.is_local or set(dict(settings.legacy_tables)) >= set(names.roles):
        return settings
    from botocore.exceptions import EndpointConnectionError, NoCredentialsError

    try:
        published = read_published(settings, clients)
    except (NoCredentialsError, EndpointConnectionError):
        return settings  # the first real call reports the missing credentials or network, in one line
    if published is None:
        return settings
    parameter = names.deployment_parameter
    tables = published.get("sourceTables")
    if tables is None:
        raise ConfigError(
            f"{parameter} has no sourceTables (published by an earlier cutover): redeploy the replication stack, "
            "or pass --legacy-table ROLE=NAME for each source role"
        )
    if not isinstance(tables, dict) or not all(isinstance(t, str) for t in tables.values()):
        raise ConfigError(
            f"{parameter}: sourceTables is not an object of role -> table: redeploy the replication stack"
        )
    if set(tables) != set(names.roles):
        raise ConfigError(
            f"the deployment at {parameter} migrates {', '.join(sorted(tables)) or 'nothing'} but this run's migration "
            f"{names.migration.name!r} has {', '.join(names.roles)}: pass the deployed definition with --migration "
            "(or CUTOVER_MIGRATION)"
        )
    target = published.get("v3Table")
    if target is not None and target != names.v3_table:
        raise ConfigError(
            f"the deployment at {parameter} migrates into {target} but this run's migration {names.migration.name!r} "
            f"into {names.v3_table}: pass the deployed definition with --migration (or CUTOVER_MIGRATION)"
        )
    resolved = names.with_published(published)
    return replace(settings, legacy_tables=resolved.legacy)


def read_published(settings: Settings, clients: Clients) -> dict[str, Any] | None:
    """The JSON a deployment published at `Names.deployment_parameter` (table names, state machine
    ARNs: infra/stacks/replication.py), or None if there is no such parameter.

    Raises:
        ConfigError: the parameter exists but cannot be read, or is not a JSON object.
    """
    from botocore.exceptions import ClientError

    parameter = settings.names.deployment_parameter
    try:
        value = clients.ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    except clients.ssm.exceptions.ParameterNotFound:
        return None
    except ClientError as exc:
        raise ConfigError(
            f"cannot read the deployment's names at {parameter} ({exc.response.get('Error', {}).get('Code')}): "
            "grant ssm:GetParameter on it, or pass --legacy-table ROLE=NAME for each source role"
        ) from exc
    try:
        published = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{parameter} is not JSON: redeploy the replication stack, or pass --legacy-table ROLE=NAME for each "
            "source role"
        ) from exc
    if not isinstance(published, dict):
        raise ConfigError(f"{parameter} is not a JSON object: redeploy the replication stack")
    return published


def writable_file(value: str) -> str:
    """A file path whose directory exists and is writable, checked before any work starts."""
    import os
    from pathlib import Path

    if not value.strip():
        raise click.BadParameter("an empty path names no file: give a file name, or leave the option out")

    parent = Path(value).expanduser().resolve().parent
    if not parent.is_dir():
        raise click.BadParameter(f"{value}: directory {parent} does not exist; create it or pick another path")
    if not os.access(parent, os.W_OK):
        raise click.BadParameter(f"{value}: directory {parent} is not writable; pick another path")
    return value


@contextmanager
def announce_interrupt(what_is_saved: str, say: Callable[[str], None] | None = None) -> Iterator[None]:
    """On Ctrl-C, say at once what is being saved, then interrupt as usual (exit 130).

    Long runs finish the pages already in flight before they exit; without this line the
    terminal is silent for seconds and the operator presses Ctrl-C again. `say` prints it (on
    stderr by default; through the progress bars' console while they run, or their next refresh
    overwrites it).
    """
    previous = signal.getsignal(signal.SIGINT)
    say = say or (lambda line: click.echo(line, err=True))

    def handler(signum: int, frame: Any) -> None:
        say(f"interrupted: {what_is_saved}; run the same command again to resume")
        signal.signal(signal.SIGINT, previous)  # a second Ctrl-C behaves as before
        raise KeyboardInterrupt

    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        if in_main_thread:
            signal.signal(signal.SIGINT, previous)
