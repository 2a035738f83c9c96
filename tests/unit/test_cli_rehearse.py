"""`cutover rehearse`'s command line: help, the human report in 80 columns, --json, and the exit
codes (0 every stack deployed, 1 one failed, 2 the stage could not be synthesized), on reports
the library would return (the deploy itself: tests/infrastructure/test_rehearsal_deploy.py)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cutover_cli.app import main
from cutover_cli.rehearsal import rehearse as library
from cutover_cli.rehearsal.deploy import StackResult
from cutover_cli.rehearsal.grants import Finding

STACKS = ["my-service-staging-stateful", "my-service-staging-replication"]
REASON = (
    "LegacyVerifyB4A8778F (Custom::LegacyTableCheck): Received response status [FAILED] from custom "
    "resource. Message returned: legacy table check failed: table my-service-staging-users has "
    "point-in-time recovery DISABLED, not ENABLED: set it in serverless.yml and `serverless deploy` "
    "(runbooks/deploy.md step 0) (RequestId: 0c0ffee0-0000-4000-8000-000000000000)"
)


def report(*, failed: bool = False, error: str | None = None) -> library.Report:
    r = library.Report("my-service", "staging", "default", expected_stacks=list(STACKS), error=error)
    if error:
        return r
    if failed:
        r.stacks = [StackResult(STACKS[0], "ROLLBACK_COMPLETE", reason=REASON)]
        r.custom = [
            ("LegacyVerifyB4A8778F", "Custom::LegacyTableCheck", "FAILED: " + REASON.split(": ", 1)[1]),
            ("ReadSourceFlag841F30A5", "Custom::ReadSourceFlag", "not reached"),
        ]
    else:
        r.stacks = [StackResult(STACKS[0], "CREATE_COMPLETE", 24), StackResult(STACKS[1], "CREATE_COMPLETE", 51)]
        r.custom = [
            ("LegacyVerifyB4A8778F", "Custom::LegacyTableCheck",
             "passed (legacy-check-my-service-staging-orders-my-service-staging-users-passed-0123456789abcdef)"),
            ("ReadSourceFlag841F30A5", "Custom::ReadSourceFlag", "passed (/my-service/staging/cutover/read-source)"),
        ]  # fmt: skip
        r.grants = [Finding(STACKS[1], "ReplicatorFunction", "replicator.handler.lambda_handler", 9, (), 2)]
        r.unemulated = {STACKS[0]: ["AWS::Backup::BackupPlan", "AWS::Backup::BackupVault"]}
    r.seconds = {"synth": 40.0, "deploy": 6.0}
    return r


@pytest.fixture
def rehearsing(monkeypatch):
    """Callable Report -> CliRunner result of `cutover rehearse ARGS` answering that report."""
    calls: list[dict] = []

    def run(answer: library.Report, *args: str):
        def fake(**kwargs):
            calls.append(kwargs)
            return answer

        monkeypatch.setattr(library, "rehearse", fake)
        return CliRunner().invoke(main, ["rehearse", "--stage", "staging", *args])

    run.calls = calls  # type: ignore[attr-defined]
    return run


def test_help_says_what_it_does_and_when():
    text = CliRunner().invoke(main, ["rehearse", "--help"]).output
    assert "local moto server" in text and "runbooks/deploy.md" in text
    assert "Exit 0" in text and "-c, --context KEY=VALUE" in text


def test_a_deploy_that_passes_exits_0_and_fits_80_columns(rehearsing):
    result = rehearsing(report(), "-c", "vpc=true")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    assert lines[0] == "rehearse my-service staging (migration default), local moto server"
    assert "  my-service-staging-stateful     CREATE_COMPLETE     24 resources" in lines
    assert any("not emulated by moto: AWS::Backup::BackupPlan" in line for line in lines)
    assert any("1 function, 9 statements; 0 grants" in line for line in lines)
    assert lines[-1] == "rehearsed (synth 40 s, deploy 6 s)"
    assert rehearsing.calls[-1]["extra_context"] == {"vpc": "true"}
    assert rehearsing.calls[-1]["stage"] == "staging"


def test_a_failed_stack_exits_1_with_cloudformations_reason(rehearsing):
    result = rehearsing(report(failed=True))
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    text = " ".join(line.strip() for line in lines)
    assert "my-service-staging-stateful ROLLBACK_COMPLETE" in " ".join(text.split())
    assert "point-in-time recovery DISABLED, not ENABLED" in text
    assert "my-service-staging-replication  not deployed (a stack it depends on failed)" in result.output
    assert lines[-1].startswith("FAILED (")


def test_json_carries_the_reason_and_the_exit_code_stays(rehearsing):
    result = rehearsing(report(failed=True), "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False
    assert data["stacks"][0]["status"] == "ROLLBACK_COMPLETE" and data["stacks"][0]["reason"] == REASON
    assert data["not_deployed"] == [STACKS[1]]
    assert data["custom_resources"][1] == {
        "logical_id": "ReadSourceFlag841F30A5", "type": "Custom::ReadSourceFlag", "verdict": "not reached"
    }  # fmt: skip
    assert data["run"] == {"built": False, "steps": []}


def test_a_stage_that_cannot_be_synthesized_is_one_line_and_exit_2(rehearsing):
    said = "cdk synth of stage staging failed: CDK context is invalid: vpc='maybe' must be true or false"
    result = rehearsing(report(error=said))
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: {said}"]
    result = rehearsing(report(error=said), "--json")
    assert result.exit_code == 2
    assert said in json.loads(result.stdout)["error"]


def test_a_context_value_without_equals_is_a_usage_error():
    result = CliRunner().invoke(main, ["rehearse", "-c", "vpc"])
    assert result.exit_code == 2
    assert "'vpc' is not KEY=VALUE" in result.output


def test_the_runbooks_ctx_is_taken_as_it_is(rehearsing):
    """`cutover rehearse $CTX`: stage, service and migration given with -c are what is rehearsed;
    the rest is passed on (account, region and the legacy tables are replaced: next test)."""
    result = rehearsing(report(), "-c", "stage=qa", "-c", "service=svc", "-c", "costCenter=CC-1", "-c", "region=x")
    assert result.exit_code == 0, result.output
    call = rehearsing.calls[-1]
    assert (call["stage"], call["service"], call["migration"]) == ("qa", "svc", None)
    assert call["extra_context"] == {"costCenter": "CC-1", "region": "x"}


def test_the_rehearsals_own_context_replaces_what_ctx_says():
    from cutover_cli.rehearsal.stage import stage_context

    legacy = {"users": ("svc-qa-users", "arn:aws:dynamodb:us-east-1:123456789012:table/svc-qa-users/stream/L")}
    given = {"account": "222222222222", "region": "eu-west-1", "legacyTables": "users=real", "vpc": "true"}
    context = stage_context(
        service="svc", stage="qa", migration=None, legacy=legacy, account="123456789012", region="us-east-1",
        extra=given,
    )  # fmt: skip
    assert (context["account"], context["region"], context["vpc"]) == ("123456789012", "us-east-1", "true")
    assert context["legacyTables"] == {"users": "svc-qa-users"}
    assert context["legacyStreamArns"] == {"users": legacy["users"][1]}
    assert context["costCenter"] == "rehearsal"  # required outside dev; -c costCenter wins
    assert "migration" not in context


def test_a_long_migration_name_still_fits_80_columns(rehearsing):
    answer = report()
    answer.migration = "migrations.catalog:MIGRATION"
    answer.service = "a-rather-long-service-name"
    result = rehearsing(answer)
    assert result.exit_code == 0
    assert all(len(line) <= 80 for line in result.output.splitlines()), result.output
