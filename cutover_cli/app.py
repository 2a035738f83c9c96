"""The `cutover` command line. Each command is a thin module in `cutover_cli.commands` exposing `command`.

Commands are discovered, not listed, so adding one is adding a file. Expected failures
(`CutoverError`, backend errors) become one line on stderr and exit 2; findings exit 1.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from cutover.errors import CutoverError
from cutover_cli import commands

EXIT_OK, EXIT_FINDING, EXIT_ERROR = 0, 1, 2


class CutoverGroup(click.Group):
    """Commands are the modules of `cutover_cli.commands`, named after their file and imported
    only when run (or when `--help` lists them), so `cutover status` loads no demo or reconciler."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return command_names()

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return load_command(name) if name in command_names() else None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CutoverError as exc:
            _fail(str(exc), exc.exit_code)
        except NoCredentialsError:
            _fail(
                "no AWS credentials found: configure a profile (AWS_PROFILE) or pass --endpoint-url for a local backend"
            )
        except ClientError as exc:
            err = exc.response.get("Error", {})
            _fail(
                f"AWS refused {exc.operation_name}: {err.get('Code')}: {err.get('Message')}. Check the "
                f"table/parameter names (--service/--stage) and your permissions"
            )
        except BotoCoreError as exc:
            _fail(f"cannot reach the backend: {exc}. Is the endpoint running (cutover local) and --endpoint-url right?")
        except KeyboardInterrupt:
            _fail("interrupted; progress so far is checkpointed, run the same command again to resume", 130)


def _fail(message: str, code: int = EXIT_ERROR) -> None:
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
def main() -> None:
    """cutover: migrate live DynamoDB data from legacy users/orders tables to the v3 single table.

    Every command takes --endpoint-url (local backend) or none (real AWS via boto3's standard
    credential chain), --service, --stage, --region and --json. Exit codes: 0 success,
    1 a finding (differences, refused flip), 2 usage or runtime error.
    """
