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


SEED_APPLICATION = {"demo", "api"}  # the seed migration's own demo data and example API


def test_generic_commands_speak_of_source_roles_not_of_the_seeds_tables():
    # Given every command but the seed application's, When its help (and each subcommand's) is read
    from click.testing import CliRunner

    from cutover_cli.app import main

    seen = []
    for name in sorted(set(command_names()) - SEED_APPLICATION):
        command = load_command(name)
        paths = [[name]] + [[name, sub] for sub in getattr(command, "commands", {})]
        for path in paths:
            text = CliRunner().invoke(main, [*path, "--help"]).output.lower()
            seen.append(" ".join(path))
            # Then none names the seed's tables or keys
            assert not any(word in text for word in ("users", "orders", "userid", "orderid", "recordtype")), path
    assert {"backfill", "quarantine redrive", "dlq list"} <= set(seen)
    backfill = CliRunner().invoke(main, ["backfill", "--help"]).output
    assert "a source role of the migration, or all" in " ".join(backfill.split())


def test_a_table_that_is_no_source_role_is_one_line_naming_the_roles():
    from click.testing import CliRunner

    from cutover_cli.app import main

    result = CliRunner().invoke(main, ["backfill", "--table", "bogus", "--endpoint-url", "http://127.0.0.1:1"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: unknown table 'bogus': use users, orders or all (the migration's source roles)"
    )
    catalog = CliRunner().invoke(
        main,
        [
            "backfill",
            "--migration",
            "migrations.catalog:MIGRATION",
            "--table",
            "users",
            "--endpoint-url",
            "http://127.0.0.1:1",
        ],
    )
    assert catalog.exit_code == 2 and "use products, reviews or all" in catalog.stderr
