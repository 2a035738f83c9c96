"""Every output a runbook quotes is what the commands print.

The runbooks' local-mode commands are run, in an on-call engineer's order, against a seeded local
backend; each quote must appear in the output of the block it follows. A quote describing another
outcome (never synced, a gap, an interrupted backfill, a refused flip...) names, in `CHECKS`, the
scenario that produces that state and the command that prints it. A quote that cannot be produced
locally is marked AWS-only with the reason; a quoted span that is not output (a file name, an IAM
action, a metric dimension named in prose) is marked so. Every quote must be classified: a new or
reworded quote fails until it is checked, so the runbooks cannot drift from the commands.

What counts as a quote (`quotes`): each line of a fenced block without a language (output
blocks); in prose, every code span of a paragraph or list item that starts with one (`- `...``,
`- **title**: `...``), else every code span after an output cue ("Expect", "Expected", "prints",
"says", "fails with", or a colon right before the span). Spans that are commands or flags are
not quotes (tests/unit/test_runbooks.py parses those).

A quote is matched as a pattern: `<anything>` and `...` stand for any text, a lone `N` for a
number; `my-service`/`staging` in a name or path stand for the test's service and stage.

Counts (test_the_counts_in_this_docstring_are_current keeps them true): 276 quotes; 82 AWS-only,
among them 58 of deploy.md's outputs of aws/cdk/serverless against an account; 17 produced by
another test (a race, an item DynamoDB will not store in a legacy table, the CDK synth, the legacy
check's rollback warning, the raw rollback command run as printed, a second backfill refused by
the lease, `cutover rehearse`'s report, a one-source backfill beside full evidence, the shadow
rule's comparisons, mismatches and unreadable evidence: each names that test); 52 not output; the
other 125 are checked here (48 after the block they follow on the walk, 77 from a scenario's
state).
"""

from __future__ import annotations

import json
import random
import re
import shlex
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from shadow_world import shadow_phase_done  # tests/ is on sys.path

from cutover.clients import Clients
from cutover.clock import utc_now
from cutover.codec import to_ddb
from cutover.settings import Settings
from cutover.state import RECONCILE, CheckpointStore, ReportStore
from cutover_cli.app import main
from cutover_cli.demo.seed import batch_write, order, user
from cutover_cli.local_backend import free_port, init_backend

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = ROOT / "runbooks"
ORDER = (
    "README.md",
    "sync.md",
    "backfill.md",
    "reconcile.md",
    "quarantine.md",
    "poison-record.md",
    "cutover.md",
    "decommission.md",
    "rollback.md",
    "deploy.md",
)
FENCE = re.compile(r"^```([a-z]*)\n(.*?)^```\n", re.S | re.M)
CUE = re.compile(r"\bExpect(?:ed)?\b|\bprints?\b|\bsays?\b|\bfails? with\b|:\s+(?=`)")
LEADS_WITH_QUOTE = re.compile(r"\s*- (?:\*\*[^*]+\*\*:? )?`")
COMMAND = ("cutover ", "aws ", "-", "npx ", "npm ", "make ", "export ", "$", "FN=", "curl ")
SKIP = ("--remote", "<", "$", "--force")  # AWS-only, needs a value from an earlier output, or deliberately forced
SERVING = ("cutover api", "cutover local", "cutover demo")  # run until stopped (`cutover api`: a scenario)


# -- what a quote is, and where it sits ---------------------------------------------------------
@dataclass
class Section:
    """A runbook block and the prose after it (up to the next block or heading)."""

    runbook: str
    commands: list[str]
    prose: str
    quotes: list[str] = field(default_factory=list)
    output: str = ""


def quotes_in(prose: str) -> list[str]:
    out: list[str] = []
    for para in re.split(r"\n\s*\n", prose):
        for item in re.split(r"\n(?=\s*- )", para):
            if LEADS_WITH_QUOTE.match(item):
                spans = re.findall(r"`([^`]+)`", item)
            else:
                cue = CUE.search(item)
                spans = re.findall(r"`([^`]+)`", item[cue.start() :]) if cue else []
            out += spans
    return [" ".join(q.split()) for q in out if not is_command(q.strip())]


def is_command(span: str) -> bool:
    """A command or flag, not output (`cutover status: ...` is the title status prints)."""
    return span.startswith(COMMAND) and not re.match(r"cutover \S+:", span)


def runnable(line: str) -> bool:
    if not line.startswith("cutover ") or any(s in line for s in SKIP) or line.startswith(SERVING):
        return False
    return not (line.split()[:2] == ["cutover", "sync"] and "--once" not in line)


def sections(runbook: str) -> list[Section]:
    """The runbook cut at every fenced block and heading; an output block is quoted by its section."""
    text = (RUNBOOKS / runbook).read_text()
    out = [Section(runbook, [], "")]
    pos = 0
    for m in FENCE.finditer(text):
        _add_prose(out, runbook, text[pos : m.start()])
        lang, body = m.groups()
        if lang == "":  # an output block: its lines are quotes of the section it is in
            out[-1].quotes += [" ".join(line.split()) for line in body.splitlines() if line.strip()]
        else:
            lines = [ln.strip().removeprefix("$ ") for ln in body.replace("\\\n", " ").splitlines()]
            out.append(Section(runbook, [ln for ln in lines if runnable(ln)], ""))
        pos = m.end()
    _add_prose(out, runbook, text[pos:])
    for s in out:
        s.quotes += quotes_in(s.prose)
    return out


def _add_prose(out: list[Section], runbook: str, text: str) -> None:
    for i, chunk in enumerate(re.split(r"^#+ .*$", text, flags=re.M)):
        if i:  # a heading ends the previous block's section
            out.append(Section(runbook, [], ""))
        out[-1].prose += chunk


def all_quotes() -> dict[tuple[str, str], Section]:
    found: dict[tuple[str, str], Section] = {}
    for runbook in ORDER:
        for section in sections(runbook):
            for quote in section.quotes:
                found.setdefault((runbook, quote), section)
    return found


def pattern(quote: str, service: str, stage: str) -> re.Pattern[str]:
    quote = re.sub(r"my-service([-/])staging", lambda m: f"{service}{m.group(1)}{stage}", quote)
    out = re.escape(quote)
    out = re.sub(r"<[^>]*>", ".*?", out.replace(r"\<", "<").replace(r"\>", ">"))
    out = out.replace(r"\ \.\.\.", ".*?").replace(r"\.\.\.", ".*?").replace(r"\ ", " ")
    out = re.sub(r"(?<![A-Za-z])N(?![A-Za-z])", r"[\\d,.]+", out)
    return re.compile(out.replace(" ", r"\s+"), re.S)  # a wrapped line is still the quote


# -- how each quote is checked ------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    name: str  # a function in SCENARIOS: sets up its state, runs the command, returns the output


@dataclass(frozen=True)
class AwsOnly:
    reason: str


@dataclass(frozen=True)
class Elsewhere:
    test: str  # the test that produces it
    reason: str


@dataclass(frozen=True)
class NotOutput:
    reason: str


FILE = NotOutput("a file the command writes, named in prose")
FIELD = NotOutput("a JSON field or attribute named in prose")
NAME = NotOutput("a name to look for or set (variable, resource, IAM action, CDK context key)")
CLOUDWATCH = AwsOnly("a CloudWatch metric or Logs line of the deployed Lambdas, read in the console")
ESM = AwsOnly("the state of the replicator's Lambda event source mappings")
REMOTE = AwsOnly("the deployed Step Functions state machine (--remote); no local backend runs it")
DEPLOY = AwsOnly("the output of aws/cdk/serverless commands against an AWS account")

CHECKS: dict[str, dict[str, Any]] = {
    "README.md": {
        "no AWS credentials found": Scenario("no_credentials"),
        "AWS refused ... ResourceNotFoundException": Scenario("undeployed"),
        "AWS_PROFILE": NAME,
        "CUTOVER_STAGE": NAME,
    },
    "sync.md": {
        "lambda:<function>": AwsOnly("the name a deployed replicator Lambda reports under"),
        "unknown: users, orders never synced": Scenario("fresh_status"),
        "STALLED: no report <time> ago": Scenario("stalled"),
        "GAP: <table> shard <id> after sequence <n>: ...": Scenario("gap"),
        "UNFINISHED: <table> shard <id>: read <n> pages (the --max-pages limit) and not at the end yet. Its "
        "checkpoint is saved: ...": Scenario("max_pages"),
        "UNFINISHED: <table> shard <id>: closed shard returned 50 empty pages without ending...": Scenario(
            "never_ends"
        ),
        "...(the iterator does not advance)...": Scenario("stuck_iterator"),
        "not read: it waits for an older shard or stream that did not finish": Scenario("never_ends"),
        "WARNING: <table>: stream <label> has open shards but its label sorts before a stream whose shards are "
        "all closed...": Scenario("label_out_of_order"),
        "consumer": Scenario("status_json"),
        "updated": Scenario("status_json"),
        "Enabled": ESM,
        "LastProcessingResult: OK": ESM,
    },
    "backfill.md": {
        "never synced": Scenario("fresh_status"),
        "resuming backfill run <id> (<k>/8 segments done)": Scenario("backfill_resume"),
        "0/8": Scenario("backfill_resume"),
        "resume it with --segments 8, or discard its progress with --restart": Scenario("backfill_other_segments"),
        "users: --restart discards run <id> (<k>/8 segments done); starting run <id> (8 segments)": Scenario(
            "backfill_restart"
        ),
        "backfill run <run id> on AWS (users started, orders started; 16 segments, 25 items/s per segment)": REMOTE,
        "backfill <run id> users: SUCCEEDED; N items scanned, 16/16 segments done; execution arn:...": REMOTE,
        "MaxConcurrency": NAME,
        "backfillMaxConcurrency": NAME,
        "error: another backfill holds the lease: run 3f9c0a1b2d4e (ops-laptop pid 4242, `cutover backfill --table "
        "all --segments 8 --rate 500`), taken 2026-12-02T14:00:03.000Z, last heartbeat 2026-12-02T14:20:23.000Z, "
        "expires 2026-12-02T14:21:23.000Z unless renewed: wait for it to finish (or stop it), or pass --steal-lease "
        "if you are sure it is dead": Elsewhere(  # fixed-date: the runbook's example refusal, never compared
            "tests/integration/test_remote_cli.py::test_local_and_remote_runs_share_one_lease",
            "a second run while a first holds the lease: two runs at once, not one walk",
        ),
    },
    "reconcile.md": {
        "DIFFERENCES FOUND": Scenario("reconcile_differences"),
        "missing": Scenario("reconcile_differences"),
        "extra": Scenario("reconcile_differences"),
        "different": Scenario("reconcile_differences"),
        "<name>: expected <value>, actual <value>": Scenario("reconcile_differences"),
        "reconcile-report.json": FILE,
        "reconcile run <run id> on AWS: started execution arn:...": REMOTE,
        "legacy users": Scenario("reconcile_bars"),
        "legacy orders": Scenario("reconcile_bars"),
        "v3": Scenario("reconcile_bars"),
        "reconcile: CLEAN ...": Scenario("reconcile_bars"),
        "execution_arn": REMOTE,
        "status": REMOTE,
        "Begin": REMOTE,
        "Merge": REMOTE,
    },
    "quarantine.md": {
        "N quarantined item(s)": Scenario("quarantine"),
        "source": Scenario("quarantine"),
        "key": Scenario("quarantine"),
        "reason": Scenario("quarantine"),
        "seen": Scenario("quarantine"),
        "invalid_email": Scenario("quarantine"),
        "invalid_user_id": Scenario("quarantine"),
        "invalid_timestamp": Scenario("quarantine"),
        "invalid_index_key": Elsewhere(
            "tests/unit/test_transform.py",
            "an order whose `email` index key is empty or not a string: DynamoDB refuses to store one in the "
            "legacy table (its email-index), so only a stream record from an older table layout carries it",
        ),
        "write_rejected": Elsewhere(
            "tests/unit/test_write_rejected.py", "a v3 item over 400 KB, built from a legacy item under it"
        ),
        "users <key>: written": Scenario("quarantine_redrive"),
        "re-driven 1: 1 resolved, 0 still quarantined": Scenario("quarantine_redrive"),
        "newer-in-v3": Scenario("quarantine_redrive"),
        "gone": Scenario("quarantine_redrive"),
        "changing": Elsewhere(
            "tests/unit/test_non_stream_writes.py", "a race: the item changes while it is being re-driven"
        ),
    },
    "poison-record.md": {
        "<service>-<stage>-cutover-users-stream-failures": NAME,
        "...-orders-stream-failures": NAME,
        "source": Scenario("dlq"),
        "shard_id": Scenario("dlq"),
        "start_sequence": Scenario("dlq"),
        "end_sequence": Scenario("dlq"),
        "batch_size": Scenario("dlq"),
        "first_arrival": Scenario("dlq"),
        "condition": Scenario("dlq_json"),
        "RetryAttemptsExhausted": Scenario("dlq_json"),
        "redriven shardId-... <first>..<last> N record(s) {'applied': N}": Scenario("dlq"),
        "failed ...": Scenario("dlq_failing"),
        "incomplete ...": Scenario("dlq_incomplete"),
        "trimmed ...": Scenario("dlq_trimmed"),
    },
    "cutover.md": {
        "legacy": FIELD,
        "shadow": FIELD,
        "v3": FIELD,
        "no reconcile has been recorded": Scenario("fresh_status"),
        "not clean": Scenario("reconcile_differences"),
        "older than 24 h": Scenario("old_reconcile"),
        "was sampled": Scenario("sampled_reconcile"),
        "started ... before the last backfill completed": Scenario("reconcile_before_backfill"),
        "started while sync was not caught up": Scenario("reconcile_before_backfill"),
        "no complete backfill": Scenario("fresh_status"),
        "no complete backfill of <sources> is recorded": Elsewhere(
            "tests/integration/test_flip_gate_evidence.py::test_a_complete_backfill_of_one_source_does_not_cover_the_others",
            "a `--table` backfill beside full evidence: written by the stores, not one walk",
        ),
        "sync lost records before applying them": Scenario("gap"),
        "the on-failure queue ... holds N discarded batch(es)": Scenario("dlq_refused"),
        "received N message(s) since ...": AwsOnly("CloudWatch's NumberOfMessagesSent: a local endpoint has none"),
        "could not be read": Scenario("dlq_unreadable"),
        "failure queues": Scenario("dlq_refused"),
        "quarantined item(s) are open": Scenario("quarantine"),
        "has never synced (<tables>)": Scenario("fresh_status"),
        "replication lag is N s": Scenario("lag_over_limit"),
        "finished ... in the future ... clock skew": Scenario("clock_skew"),
        "shadow mismatch between legacy and v3": CLOUDWATCH,
        "ShadowMismatch": CLOUDWATCH,
        "keys": CLOUDWATCH,
        "differing": CLOUDWATCH,
        'fields @timestamp, op, keys.userId, differing | filter metric = "ShadowMismatch"': CLOUDWATCH,
        "ShadowV3Error": CLOUDWATCH,
        "FlagInvalid": CLOUDWATCH,
        "V3Fallback": CLOUDWATCH,
        "V3Error": CLOUDWATCH,
        "V3ReadThrough": CLOUDWATCH,
        "refused: read-source stays shadow; flipping to v3 needs:": Scenario("refused_from_shadow"),
        "get_user": NAME,
        "find_by_email": NAME,
        "orders_of": NAME,
        "reads have been on shadow for N s (since ...), under the 900 s minimum": Scenario("refused_from_shadow"),
        "no shadow comparisons are recorded for this shadow phase": Scenario("refused_from_shadow"),
        "shadow reads compared <read> on N distinct key(s) (N comparison(s)), under the 100 minimum": Elsewhere(
            "tests/integration/test_flip_shadow_gate.py", "comparisons recorded by the API's own shadow reads"
        ),
        "shadow reads found N unexplained mismatch(es) (<read> <key> on <attributes> at ...)": Elsewhere(
            "tests/integration/test_flip_shadow_gate.py", "a tampered v3 value read by the API on shadow"
        ),
        "cannot tell when the shadow phase started": Elsewhere(
            "tests/unit/test_gate_shadow.py", "a flag set to shadow by the raw rollback command's kind of edit"
        ),
        "the shadow evidence could not be read": Elsewhere(
            "tests/unit/test_gate_shadow.py", "an API table the operator may not query"
        ),
        "shadow reads": Scenario("dlq_refused"),
        "read-source changed while this flip to v3 was being evaluated": Scenario("flip_race"),
        "read-source changed while this flip ...": Scenario("flip_race"),
        "POST /orders": NAME,
        "orderId": FIELD,
        "POST /users": NAME,
        "userId": FIELD,
        "expiresAt": FIELD,
        "ready http://127.0.0.1:8080": Scenario("api_ready"),
    },
    "decommission.md": {
        "final-reconcile.json": FILE,
        "BackupStatus: CREATING": AwsOnly("aws dynamodb create-backup (moto's backups are not AWS's)"),
        "AVAILABLE": AwsOnly("aws dynamodb list-backups"),
    },
    "rollback.md": {
        "shadow -> legacy": Scenario("rollback_from_shadow"),
        "read-source is already legacy: nothing changed": Scenario("rollback_from_shadow"),
        "read-source changed while this flip to legacy was being evaluated": Scenario("flip_race"),
        "error: no AWS credentials found": Scenario("no_credentials"),
        "AWS refused PutItem": AwsOnly("an IAM denial of dynamodb:PutItem"),
        "dynamodb:GetItem": NAME,
        "dynamodb:PutItem": NAME,
        "flip": NAME,
        "control": NAME,
        "set outside": Elsewhere(
            "tests/integration/test_flag_owner.py", "the runbook's raw command run as printed, then status"
        ),
    },
    "deploy.md": {
        "2.1148.1 (build ...)": Scenario("cdk_version"),
        "npx": NAME,
        "package.json": FILE,
        "./node_modules": FILE,
        "describe-table": NAME,
        "StreamSpecification": NAME,
        "serverless deploy": NAME,
        "LatestStreamArn": NAME,
        "None": FIELD,
        "vpc=true": NAME,
        "alarmEmail": NAME,
        "legacy": FIELD,
        "flip": NAME,
        "table": FIELD,
        "segments": FIELD,
        "run_id": FIELD,
        "backfill#<table>#<segments>": FIELD,
        "cutover-retention": NAME,
        "RecordsFailed": NAME,
        "confidential": NAME,
        "off": NAME,
        "AWS::DynamoDB::Table": NAME,
        "AWS::SQS::Queue": NAME,
        "AWS::KMS::Key": NAME,
        "AWS::Logs::LogGroup": NAME,
        "AWS::ApiGateway::Account": NAME,
        "Custom::ReadSourceFlag": NAME,
        "y": NAME,
        "Successfully synthesized to .../cdk.out": Elsewhere(
            "tests/infrastructure/test_cdk_cli.py", "the CDK CLI's synth of the app (the infra layer, minutes of CPU)"
        ),
        "error: CDK context is invalid: ...": Elsewhere(
            "tests/infrastructure/test_cdk_cli.py", "the CDK app refusing a context (the infra layer)"
        ),
        "legacy table check: rollback to the last passed deploy, still: ...": Elsewhere(
            "tests/infrastructure/test_legacy_check_rollback.py", "the check's handler answering a rollback"
        ),
        "RecordsPasses": NAME,
        "rehearsed (...)": Elsewhere(
            "tests/unit/test_cli_rehearse.py",
            "the rehearsal's report (its deploy: tests/infrastructure/test_rehearsal_deploy.py)",
        ),
        "FAILED (...)": Elsewhere("tests/unit/test_cli_rehearse.py", "the rehearsal's report of a failed stack"),
        "error: cdk synth of stage ...": Elsewhere(
            "tests/unit/test_cli_rehearse.py", "the rehearsal refusing a context"
        ),
        "not emulated by moto": Elsewhere("tests/unit/test_cli_rehearse.py", "the rehearsal's report"),
        "cdk deploy": NAME,
        "*": DEPLOY,  # every other deploy.md quote
    },
}


def check_for(runbook: str, quote: str) -> Any:
    mine = CHECKS.get(runbook, {})
    return mine.get(quote, mine.get("*"))


# -- the scenarios ------------------------------------------------------------------------------
@dataclass
class World:
    settings: Settings  # the seeded backend the runbooks walk
    clients: Clients
    monkeypatch: pytest.MonkeyPatch
    tmp_path: Path
    cache: dict[str, str] = field(default_factory=dict)

    def fresh(self) -> tuple[Settings, Clients]:
        """A new, empty deployment on the same server: every resource, nothing synced or copied."""
        s = replace(self.settings, service=f"r{uuid.uuid4().hex[:10]}")
        init_backend(s)
        return s, Clients(s)

    def cli(self, settings: Settings, *args: str, env: dict[str, str | None] | None = None) -> str:
        common = ["--endpoint-url", settings.endpoint_url or "", "--service", settings.service]
        result = CliRunner().invoke(main, [*args, *common], env=env)
        return result.output


def _put(clients: Clients, table: str, item: dict[str, Any]) -> None:
    clients.dynamodb.put_item(TableName=table, Item=to_ddb(item))


def no_credentials(w: World) -> str:
    env = {
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_SHARED_CREDENTIALS_FILE": str(w.tmp_path / "none"),
        "AWS_CONFIG_FILE": str(w.tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": None,
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": None,
        "CUTOVER_ENDPOINT_URL": None,
    }
    out = ""
    for args in (["status"], ["flip", "legacy"]):
        out += CliRunner().invoke(main, [*args, "--service", "my-service", "--stage", "staging"], env=env).output
    return out


def undeployed(w: World) -> str:
    return w.cli(replace(w.settings, service=f"never{uuid.uuid4().hex[:6]}"), "status")


def fresh_status(w: World) -> str:
    return w.cli(w.fresh()[0], "status")


def stalled(w: World) -> str:
    time.sleep(1.1)  # the seeded sync reported over a second ago
    return w.cli(w.settings, "status", "--stalled-after", "1")


def status_json(w: World) -> str:
    return w.cli(w.settings, "status", "--json")


def lag_over_limit(w: World) -> str:
    time.sleep(0.1)
    return w.cli(w.settings, "status", "--max-lag-seconds", "0")


def _record_reconcile(clients: Clients, settings: Settings, started: datetime, **doc: Any) -> None:
    def z(moment: datetime) -> str:
        return moment.isoformat().replace("+00:00", "Z")

    report = {
        "started_at": z(started),
        "finished_at": z(started + timedelta(minutes=1)),
        "clean": True,
        "sample": None,
        "counts": {"compared": 1},
        "at_start": {"sync_lag_seconds": 1.0},
        **doc,
    }
    ReportStore(clients.dynamodb, settings.names.reports_table).record(RECONCILE, report, at=report["started_at"])


def clock_skew(w: World) -> str:
    s, c = w.fresh()
    _record_reconcile(c, s, datetime.now(UTC) + timedelta(hours=2))
    return w.cli(s, "status")


def old_reconcile(w: World) -> str:
    s, c = w.fresh()
    _record_reconcile(c, s, datetime.now(UTC) - timedelta(hours=30))
    return w.cli(s, "status")


def sampled_reconcile(w: World) -> str:
    s, c = w.fresh()
    _record_reconcile(c, s, datetime.now(UTC) - timedelta(minutes=5), sample=0.01)
    return w.cli(s, "status")


def reconcile_before_backfill(w: World) -> str:
    s, c = w.fresh()
    _record_reconcile(c, s, datetime.now(UTC) - timedelta(minutes=30), at_start={})
    _put(c, s.names.source_table("users"), {"userId": "b1", "email": "b@x.io"})
    w.cli(s, "backfill", "--table", "all", "--segments", "1", "--i-know-sync-is-off", "--quiet")
    return w.cli(s, "status")


def _double(w: World, s: Settings, c: Clients) -> Any:
    sys.path.insert(0, str(ROOT / "tests" / "integration"))
    from test_sync_evidence import FakeClients, _double

    from cutover_cli import _common

    double = _double(s, c)
    w.monkeypatch.setattr(_common.Runtime, "clients", property(lambda rt: FakeClients(c, double)), raising=False)
    return double


def _user(double: Any, s: Settings, user_id: str, email: str) -> Any:
    return double.put(s.names.source_table("users"), {"userId": user_id}, {"userId": user_id, "email": email})


def gap(w: World) -> str:
    s, c = w.fresh()
    double = _double(w, s, c)
    _user(double, s, "u1", "a@x.io")
    w.cli(s, "sync", "--once", "--quiet")
    stream = double.latest(s.names.source_table("users"))
    lost = _user(double, s, "u2", "lost@x.io")
    _user(double, s, "u3", "kept@x.io")
    double.trim(stream.arn, stream.open_shard().shard_id, upto=lost)
    out = w.cli(s, "sync", "--once", "--quiet")
    w.monkeypatch.undo()
    return out + w.cli(s, "status")


def max_pages(w: World) -> str:
    s, c = w.fresh()
    _put(c, s.names.source_table("users"), {"userId": "m1", "email": "m@x.io"})
    return w.cli(s, "sync", "--once", "--quiet", "--max-pages", "1")


def never_ends(w: World) -> str:
    s, c = w.fresh()
    double = _double(w, s, c)
    _user(double, s, "u1", "before-disable@x.io")
    old = double.latest(s.names.source_table("users"))
    double.disable(s.names.source_table("users"))
    (shard,) = old.shards.values()
    shard.never_ends = True
    double.enable(s.names.source_table("users"))
    _user(double, s, "u2", "waits@x.io")
    out = w.cli(s, "sync", "--once", "--quiet")
    w.monkeypatch.undo()
    return out


def stuck_iterator(w: World) -> str:
    s, c = w.fresh()
    double = _double(w, s, c)
    _user(double, s, "u1", "once@x.io")
    double.latest(s.names.source_table("users")).open_shard().stuck_iterator = True
    out = w.cli(s, "sync", "--once", "--quiet")
    w.monkeypatch.undo()
    return out


def label_out_of_order(w: World) -> str:
    s, c = w.fresh()
    double = _double(w, s, c)
    _user(double, s, "u1", "first@x.io")
    w.cli(s, "sync", "--once", "--quiet")
    _user(double, s, "u1", "second@x.io")
    double.disable(s.names.source_table("users"))
    double.enable(s.names.source_table("users"), label="2000-01-01T00:00:00.000")
    _user(double, s, "u2", "new-stream@x.io")
    out = w.cli(s, "sync", "--once", "--quiet")
    w.monkeypatch.undo()
    return out


def _users(c: Clients, s: Settings, n: int) -> None:
    batch_write(
        c.dynamodb, s.names.source_table("users"), [{"userId": f"u{i}", "email": f"u{i}@x.io"} for i in range(n)]
    )


def backfill_resume(w: World) -> str:
    s, c = w.fresh()
    _users(c, s, 4)
    # a run records itself as current, then scans: Ctrl-C before its first checkpoint leaves this
    current = {"segments": 8, "run_id": "interrupted01", "at": utc_now()}
    CheckpointStore(c.dynamodb, s.names.checkpoints_table).put("backfill#users", "current", current)
    return w.cli(s, "backfill", "--table", "users", "--segments", "8", "--i-know-sync-is-off", "--quiet")


def backfill_other_segments(w: World) -> str:
    s, c = w.fresh()
    _users(c, s, 4)
    flags = ["--table", "users", "--i-know-sync-is-off", "--quiet"]
    w.cli(s, "backfill", "--segments", "8", "--segment", "0", *flags)
    return w.cli(s, "backfill", "--segments", "4", *flags)


def backfill_restart(w: World) -> str:
    s, c = w.fresh()
    _users(c, s, 4)
    flags = ["--table", "users", "--segments", "8", "--i-know-sync-is-off", "--quiet"]
    w.cli(s, "backfill", "--segment", "0", *flags)
    return w.cli(s, "backfill", "--restart", *flags)


def reconcile_differences(w: World) -> str:
    s, c = w.fresh()
    _users(c, s, 3)
    w.cli(s, "backfill", "--table", "all", "--segments", "1", "--i-know-sync-is-off", "--quiet")
    c.dynamodb.delete_item(TableName=s.names.v3_table, Key=to_ddb({"userId": "u0", "recordType": "PROFILE"}))
    _put(c, s.names.v3_table, {"userId": "u1", "recordType": "PROFILE", "entityType": "USER", "email": "x@y.io"})
    _put(c, s.names.v3_table, {"userId": "ghost", "recordType": "PROFILE", "entityType": "USER", "email": "g@x"})
    out = w.cli(s, "reconcile", "--segments", "1", "--quiet", "--report", str(w.tmp_path / "diff.json"))
    return out + w.cli(s, "status")


def reconcile_bars(w: World) -> str:
    s, c = w.fresh()
    _users(c, s, 2)
    w.cli(s, "backfill", "--table", "all", "--segments", "1", "--i-know-sync-is-off", "--quiet")
    return w.cli(s, "reconcile", "--segments", "1", "--report", str(w.tmp_path / "bars.json"))


def _bad_items(c: Clients, s: Settings) -> None:
    _put(c, s.names.source_table("users"), {"userId": "q-email", "email": 7})
    _put(c, s.names.source_table("users"), {"userId": "q-ts", "email": "t@x.io", "createdAt": "the day after"})
    _put(c, s.names.source_table("orders"), {"orderId": "q-order", "amount": 3})


def quarantine(w: World) -> str:
    s, c = w.fresh()
    _bad_items(c, s)
    w.cli(s, "sync", "--once", "--quiet")
    return w.cli(s, "quarantine", "list") + w.cli(s, "status")


def quarantine_redrive(w: World) -> str:
    s, c = w.fresh()
    for key in ("fixed", "deleted", "served"):
        _put(c, s.names.source_table("users"), {"userId": key, "email": 7})
    w.cli(s, "sync", "--once", "--quiet")
    # fixed at the source; deleted at the source; fixed, and v3 already serves the fix
    for key in ("fixed", "served"):
        c.dynamodb.update_item(
            TableName=s.names.source_table("users"),
            Key=to_ddb({"userId": key}),
            UpdateExpression="SET email = :e",
            ExpressionAttributeValues=to_ddb({":e": f"{key}@x.io"}),
        )
    c.dynamodb.delete_item(TableName=s.names.source_table("users"), Key=to_ddb({"userId": "deleted"}))
    from migrations.seed.transform import transform
    from replicator.v3_writer import V3Writer

    (served,) = transform("users", {"userId": "served", "email": "served@x.io"})
    V3Writer(c.dynamodb, s.names.v3_table).put(served, "99999999999999999999.9", "users#served")
    return "".join(
        w.cli(s, "quarantine", "redrive", "--source", "users", "--key", k) for k in ("fixed", "deleted", "served")
    )


def _failure_on_queue(c: Clients, s: Settings, past_end: int = 0) -> str:
    """A pointer to the range just written; `past_end` moves its end beyond what the stream holds."""
    sys.path.insert(0, str(ROOT / "tests" / "integration"))
    from test_dlq import _send_failure, _stream_range

    _put(c, s.names.source_table("users"), {"userId": "d1", "email": "d@x.io"})
    arn, shard, first, last = _stream_range(c, s.names.source_table("users"))
    return _send_failure(c, s, "users", arn, shard, first, str(int(last) + past_end))


def dlq(w: World) -> str:
    s, c = w.fresh()
    _failure_on_queue(c, s)
    return w.cli(s, "dlq", "list") + w.cli(s, "dlq", "redrive")


def dlq_json(w: World) -> str:
    s, c = w.fresh()
    _failure_on_queue(c, s)
    return w.cli(s, "dlq", "list", "--json")


def dlq_incomplete(w: World) -> str:
    s, c = w.fresh()
    _failure_on_queue(c, s, past_end=10**6)
    return w.cli(s, "dlq", "redrive")


def dlq_trimmed(w: World) -> str:
    sys.path.insert(0, str(ROOT / "tests" / "integration"))
    from test_dlq import _trimmed

    s, c = w.fresh()
    _failure_on_queue(c, s)

    def trimming_streams(self: Clients) -> Any:
        client = self.client("dynamodbstreams")
        client.meta.events.register("before-call.dynamodb-streams.GetShardIterator", _trimmed)
        return client

    w.monkeypatch.setattr(Clients, "streams", property(trimming_streams))
    out = w.cli(s, "dlq", "redrive")
    w.monkeypatch.undo()
    return out


def dlq_failing(w: World) -> str:
    """The cause is not fixed: the replicator's write still fails (a bug, a missing permission)."""
    from replicator.v3_writer import V3Writer

    s, c = w.fresh()
    _failure_on_queue(c, s)

    def still_broken(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("still broken")

    w.monkeypatch.setattr(V3Writer, "put", still_broken)
    out = w.cli(s, "dlq", "redrive")
    w.monkeypatch.undo()
    return out


def refused_from_shadow(w: World) -> str:
    s, _ = w.fresh()
    w.cli(s, "flip", "shadow")
    return w.cli(s, "flip", "v3")


def dlq_refused(w: World) -> str:
    """A discarded batch on the users' queue: status shows its depth and the flip to v3 is refused."""
    s, c = w.fresh()
    _failure_on_queue(c, s)
    w.cli(s, "flip", "shadow")
    return w.cli(s, "status") + w.cli(s, "flip", "v3")


def dlq_unreadable(w: World) -> str:
    s, c = w.fresh()
    c.sqs.delete_queue(QueueUrl=c.sqs.get_queue_url(QueueName=s.names.failure_queue("orders"))["QueueUrl"])
    w.cli(s, "flip", "shadow")
    return w.cli(s, "flip", "v3")


def rollback_from_shadow(w: World) -> str:
    s, _ = w.fresh()
    w.cli(s, "flip", "shadow")
    return w.cli(s, "flip", "legacy") + w.cli(s, "flip", "legacy")


def flip_race(w: World) -> str:
    """Another operator's flip lands while this one is evaluated (between reading and writing the flag)."""
    from controlplane import flipper
    from controlplane.evidence import Stores
    from controlplane.flag import ReadSource

    s, c = w.fresh()
    w.cli(s, "flip", "shadow")
    real = flipper._claim
    raced: list[bool] = []

    def other_operator_first(stores: Any, version: int, old: Any, target: Any, record: Any) -> None:
        if not raced:
            raced.append(True)
            other = ReadSource.V3 if target is ReadSource.LEGACY else ReadSource.LEGACY
            flipper.flip(Stores.build(s, c), other, "other@host", force=True, reason="the other operator")
        real(stores, version, old, target, record)

    w.monkeypatch.setattr(flipper, "_claim", other_operator_first)
    out = w.cli(s, "flip", "legacy")  # the other one flips to v3 meanwhile
    raced.clear()
    out += w.cli(s, "flip", "v3", "--force", "--reason", "drill")  # the other one rolls back meanwhile
    w.monkeypatch.undo()
    return out


def api_ready(w: World) -> str:
    port = free_port()
    argv = [str(Path(sys.executable).with_name("cutover")), "api", "--port", str(port)]
    argv += ["--endpoint-url", w.settings.endpoint_url or "", "--service", w.settings.service]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    return line.replace(f":{port}", ":8080")  # the runbook's --port 8080


def cdk_version(w: World) -> str:
    """What `npx --no-install aws-cdk --version` prints: the version pinned in package.json."""
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    installed = ROOT / "node_modules" / "aws-cdk" / "package.json"
    if installed.exists():
        assert json.loads(installed.read_text())["version"] == pinned, "node_modules is not package.json's CDK"
    return f"{pinned} (build 0000000)"


SCENARIOS: dict[str, Callable[[World], str]] = {
    f.__name__: f
    for f in (
        no_credentials,
        undeployed,
        fresh_status,
        stalled,
        status_json,
        lag_over_limit,
        clock_skew,
        old_reconcile,
        sampled_reconcile,
        reconcile_before_backfill,
        gap,
        max_pages,
        never_ends,
        stuck_iterator,
        label_out_of_order,
        backfill_resume,
        backfill_other_segments,
        backfill_restart,
        reconcile_differences,
        reconcile_bars,
        quarantine,
        quarantine_redrive,
        dlq,
        dlq_json,
        dlq_incomplete,
        dlq_trimmed,
        dlq_failing,
        refused_from_shadow,
        dlq_refused,
        dlq_unreadable,
        rollback_from_shadow,
        flip_race,
        api_ready,
        cdk_version,
    )
}


# -- the tests ----------------------------------------------------------------------------------
def test_every_quote_is_classified_and_every_check_names_a_quote():
    found = all_quotes()
    unclassified = [
        f"{runbook}: `{quote}`"
        for (runbook, quote), section in found.items()
        if check_for(runbook, quote) is None and not section.commands
    ]
    assert not unclassified, "quotes outside any runnable block need a check in CHECKS:\n" + "\n".join(unclassified)
    stale = [f"{rb}: `{q}`" for rb, mine in CHECKS.items() for q in mine if q != "*" and (rb, q) not in found]
    assert not stale, "CHECKS names quotes no runbook has (reworded?):\n" + "\n".join(stale)
    missing = {c.name for mine in CHECKS.values() for c in mine.values() if isinstance(c, Scenario)} - set(SCENARIOS)
    assert not missing, missing


def test_the_counts_in_this_docstring_are_current():
    found = all_quotes()
    kinds = [type(check_for(rb, q) or "after") for rb, q in found]
    deploy = sum(1 for rb, q in found if rb == "deploy.md" and check_for(rb, q) is DEPLOY)
    aws, elsewhere, not_output = kinds.count(AwsOnly), kinds.count(Elsewhere), kinds.count(NotOutput)
    doc = " ".join((__doc__ or "").split())
    checked = len(found) - aws - elsewhere - not_output
    expected = (
        f"{len(found)} quotes; {aws} AWS-only, among them {deploy} of deploy.md's outputs of aws/cdk/serverless "
        f"against an account; {elsewhere} produced by another test"
    )
    assert expected in doc, expected
    assert f"{not_output} not output; the other {checked} are checked here" in doc, (not_output, checked)
    walk, scenarios = kinds.count(str), kinds.count(Scenario)
    assert f"({walk} after the block they follow on the walk, {scenarios} from a scenario's state)" in doc


@pytest.fixture
def world(settings, clients, tmp_path, monkeypatch):
    """Messy but valid legacy data (the bad-item paths are scenarios), replicated once."""
    monkeypatch.chdir(tmp_path)  # the runbooks write reports to the current directory
    rng = random.Random(7)
    users = [user(rng, i) for i in range(40)]
    orders = [order(rng, i, [u["userId"] for u in users]) for i in range(60)]
    batch_write(clients.dynamodb, settings.names.source_table("users"), users)
    batch_write(clients.dynamodb, settings.names.source_table("orders"), orders)
    common = ["--endpoint-url", settings.endpoint_url, "--service", settings.service]
    assert CliRunner().invoke(main, ["sync", "--once", "--quiet", *common]).exit_code == 0
    # and a few changes since, which sync.md's `cutover sync --once` applies (with their lag)
    batch_write(clients.dynamodb, settings.names.source_table("users"), [user(rng, i) for i in range(40, 45)])
    return World(settings, clients, monkeypatch, tmp_path)


@pytest.mark.timeout(300)
def test_every_quoted_output_is_what_the_commands_print(world):
    w, runner, problems, checked = world, CliRunner(), [], 0
    common = ["--endpoint-url", w.settings.endpoint_url, "--service", w.settings.service]

    def expect(runbook: str, quote: str, output: str, where: str) -> None:
        nonlocal checked
        checked += 1
        if not pattern(quote, w.settings.service, w.settings.stage).search(output):
            problems.append(f"{runbook}: {where}: expected `{quote}`; got:\n{output[-800:]}")

    # the walk: each runbook's blocks in order, each block's quotes against its own output
    for runbook in ORDER:
        for section in sections(runbook):
            for cmd in section.commands:
                if cmd.startswith("cutover flip v3"):  # the walk cannot serve 15 min of shadow traffic
                    shadow_phase_done(w.settings, w.clients)  # tests/shadow_world.py: that phase, recorded
                section.output += runner.invoke(main, [*shlex.split(cmd)[1:], *common]).output
            for quote in section.quotes:
                check = check_for(runbook, quote)
                if check is None:
                    expect(runbook, quote, section.output, f"after `{' ; '.join(section.commands)}`")
    # the other outcomes, each from the state that produces it
    for runbook in ORDER:
        for quote, check in CHECKS.get(runbook, {}).items():
            if isinstance(check, Scenario):
                if check.name not in w.cache:
                    w.cache[check.name] = SCENARIOS[check.name](w)
                expect(runbook, quote, w.cache[check.name], f"scenario {check.name}")
    assert checked >= 100, f"only {checked} quotes checked: is the extraction broken?"
    assert not problems, "\n\n".join(problems)
