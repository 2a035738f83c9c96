"""Every `cutover ...` command a runbook names must exist and accept the flags shown.

Commands are taken from fenced code blocks and from inline code spans, and parsed (not run) by
the real click parser, so a renamed flag breaks this test instead of an on-call engineer.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from cutover_cli.app import main

RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
INLINE = re.compile(r"(?<!`)`(cutover (?![^`\s]*:)[^`]+)`(?!`)")  # not `cutover status: ...` (its output)
REQUIRED = (
    "README.md",
    "sync.md",
    "backfill.md",
    "reconcile.md",
    "quarantine.md",
    "cutover.md",
    "rollback.md",
    "poison-record.md",
    "decommission.md",
)


def commands(text: str) -> list[str]:
    """`cutover` command lines in code blocks (continuations joined, `$ ` prompts dropped) and inline spans."""
    found = []
    for block in FENCE.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("cutover "):
                found.append(line)
    prose = FENCE.sub("", text)
    found += [m.group(1) for m in INLINE.finditer(prose)]
    return found


def all_commands() -> list[tuple[str, str]]:
    return [(path.name, cmd) for path in sorted(RUNBOOKS.glob("*.md")) for cmd in commands(path.read_text())]


def parse(line: str) -> click.Context:
    """Resolve the (sub)command through `cutover_cli.main` and parse its arguments, without running it."""
    # deploy.md's $CTX (its step 2) is a list of -c KEY=VALUE pairs: `cutover rehearse $CTX`
    args = shlex.split(line.replace("$CTX", "-c stage=staging -c service=my-service"))[1:]
    ctx = click.Context(main, info_name="cutover")
    command: click.Command = main
    while isinstance(command, click.Group):
        if not args:
            raise click.UsageError(f"{line!r} names no subcommand", ctx)
        sub = command.get_command(ctx, args[0])
        if sub is None:
            raise click.UsageError(f"no such command {args[0]!r}", ctx)
        ctx = click.Context(sub, info_name=args[0], parent=ctx)
        command, args = sub, args[1:]
    return command.make_context(ctx.info_name, list(args), parent=ctx.parent, resilient_parsing=False)


def test_every_required_runbook_exists():
    missing = [name for name in REQUIRED if not (RUNBOOKS / name).is_file()]
    assert not missing, f"runbooks missing: {missing}"


def test_extraction_finds_commands_and_flags():
    text = (
        "x\n```sh\n$ cutover flip v3 \\\n  --force --reason 'a b'\necho no\n```\nsee `cutover status` and `aws s3 ls`\n"
    )
    assert commands(text) == ["cutover flip v3    --force --reason 'a b'", "cutover status"]


def test_parser_rejects_unknown_flags_and_commands():
    with pytest.raises(click.UsageError):
        parse("cutover flip v3 --no-such-flag")
    with pytest.raises(click.UsageError):
        parse("cutover flip sideways")
    with pytest.raises(click.UsageError):
        parse("cutover no-such-command")


@pytest.mark.parametrize("runbook,line", all_commands())
def test_runbook_command_parses(runbook, line):
    try:
        parse(line)
    except click.UsageError as exc:
        pytest.fail(f"runbooks/{runbook}: `{line}` does not parse: {exc.format_message()}")
