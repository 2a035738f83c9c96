"""`cutover --help` and `cutover <cmd> --help` import no AWS SDK, rich or moto: the SDK alone costs
about half a second of CPU, and help talks to no backend. Not timed (CPU figures are in
`python -m bench --only startup`): it checks what a fresh interpreter has imported.
"""

from __future__ import annotations

import json
import subprocess
import sys

import click

from cutover_cli.app import command_names, load_command

HEAVY = (
    "boto3",
    "botocore",
    "s3transfer",
    "urllib3",
    "moto",
    "rich",
    "pynamodb",
    "aws_lambda_powertools",
    "pydantic",
    "werkzeug",
    "cutover.clients",
    "cutover.codec",
)

# A fresh interpreter runs the console script's `main` once per invocation, in order, and
# records the heavy modules loaded after each. sys.modules only grows, so the first invocation
# to show one is the one that imported it.
SCRIPT = """
import json, sys
from cutover_cli.app import main
heavy, seen = {heavy!r}, {{}}
for argv in {invocations!r}:
    try:
        main(argv)
    except SystemExit as done:
        assert done.code in (0, None), (argv, done.code)
    seen[" ".join(argv)] = sorted(
        {{m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy)}}
    )
print("RESULT " + json.dumps(seen))
"""


def invocations() -> list[list[str]]:
    out = [["--help"]]
    for name in command_names():
        out.append([name, "--help"])
        command = load_command(name)
        if isinstance(command, click.Group):
            out += [[name, sub, "--help"] for sub in sorted(command.commands)]
    return out


def test_help_imports_no_sdk_rich_or_moto():
    # Given every help screen: the top level, each command's and each subcommand's
    argv = invocations()
    assert len(argv) >= 12, argv
    # When a fresh interpreter prints them all through the console script's entry point
    script = SCRIPT.format(heavy=HEAVY, invocations=argv)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout.rsplit("RESULT ", 1)[1])
    # Then none of them imported the SDK, rich, moto or the modules that load them
    assert seen.keys() == {" ".join(a) for a in argv}
    assert {k: v for k, v in seen.items() if v} == {}, "help imported heavy modules (first seen after)"


def test_defaults_the_commands_spell_out_are_the_domain_defaults():
    # Given the two option defaults the commands keep as literals (importing their owners loads the SDK)
    from backfill import runs
    from cutover_cli.commands import backfill, reconcile, sync
    from reconciler import partials
    from reconciler.run import DEFAULT_REPORT
    from replicator.poller.sync import SyncOptions

    # Then they are the defaults of the code they drive (and of the state machines' inputs)
    assert SyncOptions.max_pages == sync.MAX_PAGES
    assert reconcile.DEFAULT_REPORT == DEFAULT_REPORT
    assert (
        backfill.DEFAULT_SEGMENTS == runs.DEFAULT_SEGMENTS and reconcile.DEFAULT_SEGMENTS == partials.DEFAULT_SEGMENTS
    )
