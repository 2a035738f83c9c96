"""Running one command imports that command only: `cutover status` must not load the demo or reconciler."""

from __future__ import annotations

import subprocess
import sys

from cutover_cli.app import command_names, load_command


def test_every_command_file_defines_the_command_it_is_named_after():
    # Given the files in cutover_cli/commands, Then each loads a click command of the same name
    names = command_names()
    assert {"api", "backfill", "demo", "flip", "init", "local", "quarantine", "reconcile", "status", "sync"} <= set(
        names
    )
    assert all(load_command(name).name == name for name in names)


def test_running_a_command_does_not_import_the_others():
    # Given a fresh interpreter, When `cutover status --help` runs
    script = (
        "import sys\n"
        "from cutover_cli.app import main\n"
        "try:\n"
        "    main(['status', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('cutover_cli.demo', 'reconciler.run', 'cutover_cli.commands.demo', 'moto')\n"
        "print('HEAVY', [m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    # Then neither the demo, the reconciler nor moto was imported
    assert "HEAVY []" in out.stdout, out.stdout[-500:] + out.stderr[-2000:]
