"""The `cutover` command line. Each command is a thin module in `cutover_cli.commands` exposing `command`.

Commands are discovered, not listed, so adding one is adding a file. Expected failures
(`CutoverError`, backend errors) become one line on stderr and exit 2; findings exit 1.

Start-up stays light: this module, `_common` and every command module import no AWS SDK, rich
or moto at module level (a command imports what it runs inside its function), so `--help`
answers in about a tenth of a second. tests/unit/test_cli_startup.py holds that line;
`python -m bench --only startup` measures it.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import click

from cutover.errors import CutoverError
from cutover_cli import commands
from cutover_cli._common import active_runtime, global_options

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

EXIT_OK, EXIT_FINDING, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


class CutoverGroup(click.Group):
    """Commands are the modules of `cutover_cli.commands`, named after their file and imported
    only when run (or when `--help` lists them), so `cutover status` loads no demo or reconciler.

    Every failure leaves as one line (`error: ...`, or a JSON object on stdout with --json) and a
    documented exit code: usage errors and expected failures 2, findings 1, Ctrl-C 130.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return command_names()

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return load_command(name) if name in command_names() else None

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        kwargs["standalone_mode"] = False
        try:
            result = super().main(argv, *rest, **kwargs)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except click.exceptions.Abort:
            _fail("interrupted", EXIT_INTERRUPTED, "--json" in argv)
        except click.UsageError as exc:
            where = (
                f"cutover {exc.ctx.command_path.split(' ', 1)[1]}"
                if exc.ctx and " " in exc.ctx.command_path
                else "cutover"
            )
            _fail(f"{exc.format_message()} (see `{where} --help`)", EXIT_ERROR, "--json" in argv)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code, "--json" in argv)
        sys.exit(result if isinstance(result, int) else EXIT_OK)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CutoverError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail(
                "interrupted; progress so far is checkpointed, run the same command again to resume", EXIT_INTERRUPTED
            )
        except Exception as exc:
            message = describe_sdk_error(exc)
            if message is None:
                raise
            _fail(message)


def describe_sdk_error(exc: Exception) -> str | None:
    """One line for a failure of the AWS SDK, or None if `exc` is not one.

    botocore is looked up, never imported: if no command loaded it, the error cannot be its own.
    """
    errors = sys.modules.get("botocore.exceptions")
    if errors is None:
        return None
    if isinstance(exc, errors.NoCredentialsError):
        return (
            "no AWS credentials found: sign in (a named profile, SSO, or environment credentials) or pass "
            "--endpoint-url for a local backend"
        )
    if isinstance(exc, errors.ClientError):
        return describe_client_error(exc)
    if isinstance(exc, errors.BotoCoreError):
        return f"cannot reach the backend: {exc}. Is the endpoint running (cutover local) and --endpoint-url right?"
    return None


def describe_client_error(exc: ClientError) -> str:
    """One line for an AWS refusal, naming the tables this run was looking at when one is missing."""
    err = exc.response.get("Error", {})
    line = f"AWS refused {exc.operation_name}: {err.get('Code')}: {err.get('Message')}"
    rt = active_runtime()
    if err.get("Code") == "ResourceNotFoundException" and rt is not None:
        n = rt.__dict__.get("settings", rt.requested).names  # never resolve again inside an error handler
        tables = ", ".join([*n.source_tables().values(), n.v3_table])
        return (
            f"{line}. This run looks for tables {tables} (and cutover's own {n.prefix}-*) in region "
            f"{rt.clients.region}: check --service/--stage/--region (and --migration, --legacy-table ROLE=NAME), "
            "or run `cutover init` on a local endpoint"
        )
    return f"{line}. Check the table/parameter names (--service/--stage) and your permissions"


def _fail(message: str, code: int = EXIT_ERROR, as_json: bool | None = None) -> NoReturn:
    """Print one line (or, with --json, one JSON object on stdout as well) and exit with `code`."""
    rt = active_runtime()
    if as_json or (as_json is None and rt is not None and rt.as_json):
        click.echo(json.dumps({"error": message, "exit_code": code}))
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def command_names() -> list[str]:
    """Every command, from the file names alone (nothing imported)."""
    return sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_"))


def load_command(name: str) -> click.Command:
    """Import one command's module; its `command` must carry the file's name."""
    command = getattr(importlib.import_module(f"{commands.__name__}.{name}"), "command", None)
    if not isinstance(command, click.Command) or command.name != name:
        raise RuntimeError(f"cutover_cli/commands/{name}.py must define a click command named {name!r} as `command`")
    return command


@click.group(cls=CutoverGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="cutover")
@global_options
def main(**options: Any) -> None:
    """cutover: migrate live DynamoDB data from legacy tables (the migration's source roles) to
    its target table, with the migration definition's transform.

    Every command takes --endpoint-url (local backend) or none (real AWS via boto3's standard
    credential chain), --service, --stage, --region, --migration MODULE:ATTRIBUTE (default: the
    seed migration), --legacy-table ROLE=NAME and --json. Exit codes: 0 success,
    1 a finding (differences, refused flip), 2 usage or runtime error.
    """
