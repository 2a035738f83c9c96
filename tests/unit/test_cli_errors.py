"""Every CLI failure is one line with a documented exit code, and with --json a JSON object on stdout."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cutover_cli.app import main


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env={"CUTOVER_ENDPOINT_URL": "", **(env or {})})


@pytest.mark.parametrize(
    "args,needle",
    [
        (("status", "--stage", "QA_1"), "'QA_1' is not a stage name: use 1-40 lower-case letters, digits and '-'"),
        (("reconcile", "--sample", "2"), "--sample"),
        (("flip", "bogus"), "'bogus' is not one of 'legacy', 'shadow', 'v3'"),
        (("nosuch",), "No such command 'nosuch'"),
        (("backfill", "--segments"), "--segments"),
    ],
)
def test_usage_errors_are_one_line_exit_2_naming_the_help(args, needle):
    # When a command is called wrongly
    result = run(*args)
    # Then one `error:` line names the problem and where to read more, and the exit code is 2
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], result.output
    assert "--help`" in lines[0] and "Usage:" not in result.output


def test_json_errors_are_json_on_stdout_with_the_same_exit_code():
    # Given --json, When the command fails at usage and at runtime
    usage = CliRunner().invoke(main, ["flip", "bogus", "--json"])
    runtime = CliRunner().invoke(main, ["status", "--json", "--endpoint-url", "http://127.0.0.1:1"])
    # Then stdout holds one JSON object with the message and the exit code
    for result in (usage, runtime):
        assert result.exit_code == 2
        doc = json.loads(result.stdout.strip().splitlines()[0])
        assert doc["exit_code"] == 2 and doc["error"]


def test_global_options_may_come_before_the_command():
    # Given the options before the command name, When status runs against an unreachable endpoint
    result = run("--endpoint-url", "http://127.0.0.1:1", "--json", "status")
    # Then they were applied (the error names the endpoint it tried, as JSON) instead of being refused
    assert result.exit_code == 2
    assert "127.0.0.1:1" in json.loads(result.stdout.splitlines()[0])["error"]


def test_a_command_line_option_after_the_command_wins_over_one_before():
    result = run("--stage", "prod", "status", "--stage", "Q!")
    assert result.exit_code == 2 and "'Q!' is not a stage name" in result.output


@pytest.mark.parametrize("stage", ["qa", "live", "prod-eu", "dev-alice", "2026"])
def test_any_stage_name_the_naming_rules_allow_is_accepted(stage):
    # When a command is given a stage outside dev|staging|prod
    helped = run("status", "--stage", stage, "--help")
    ran = run("--json", "status", "--stage", stage, "--endpoint-url", "http://127.0.0.1:1")
    # Then it is no usage error: help prints, and the command gets as far as the backend
    assert helped.exit_code == 0 and "--stage STAGE" in helped.output
    assert ran.exit_code == 2 and "127.0.0.1:1" in json.loads(ran.stdout.splitlines()[0])["error"], ran.output


def test_a_stage_too_long_for_the_resource_names_is_one_line_naming_the_limit():
    # When service and stage together exceed what the derived resource names allow (the backup vault's 50)
    result = run("status", "--stage", "a-stage-name-of-thirty-two-chars", "--endpoint-url", "http://127.0.0.1:1")
    # Then one line names the prefix, the limit and the resource that sets it; nothing was contacted
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert "'my-service-a-stage-name-of-thirty-two-chars' (43 characters)" in lines[0]
    assert "the longest it may be is 42" in lines[0] and "Backup vault is named <prefix>-cutover" in lines[0]
    assert "cannot reach" not in result.output


def test_help_shows_the_environment_variables():
    result = run("status", "--help")
    assert "CUTOVER_SERVICE" in result.output and "CUTOVER_STAGE" in result.output
    assert "CUTOVER_ENDPOINT_URL" in result.output


def test_a_report_path_in_a_missing_directory_is_refused_before_any_work():
    # Given a report path whose directory does not exist
    result = run("reconcile", "--report", "/nonexistent-dir/r.json", "--endpoint-url", "http://127.0.0.1:1")
    # Then one line names the path and the fix, exit 2, and no backend was contacted
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "directory /nonexistent-dir does not exist" in result.output
    assert "cannot reach the backend" not in result.output
