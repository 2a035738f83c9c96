"""The runbooks' quoted outputs are what the commands print: their local-mode commands are run, in
an on-call engineer's order, against a seeded local backend, and each `Expected:` quote is checked.

A quote is matched as a pattern: `<anything>` and `...` stand for any text, a lone `N` for a number.
Only the primary expectation is checked: the quotes before the first "or"/"(not"/"If" in the
paragraph (the rest describe other outcomes, which this run does not produce).
"""

from __future__ import annotations

import random
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from cutover_cli.app import main
from cutover_cli.demo.seed import batch_write, order, user

RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
ORDER = ("sync.md", "backfill.md", "reconcile.md", "quarantine.md", "cutover.md", "rollback.md")
BLOCK = re.compile(r"^```(?:sh|bash|)\n(.*?)^```\n(.*?)(?=^```|^#|\Z)", re.S | re.M)
SKIP = ("--remote", "<", "$", "--force")  # AWS-only, needs a value from an earlier output, or deliberately forced
SERVING = ("cutover api", "cutover local", "cutover demo")  # run until stopped


def runnable(line: str) -> bool:
    if not line.startswith("cutover ") or any(s in line for s in SKIP) or line.startswith(SERVING):
        return False
    return not (line.split()[:2] == ["cutover", "sync"] and "--once" not in line)


def pattern(quote: str) -> re.Pattern[str]:
    out = re.escape(quote)
    out = re.sub(r"<[^>]*>", ".+?", out.replace(r"\<", "<").replace(r"\>", ">"))
    out = out.replace(r"\ \.\.\.", ".*?").replace(r"\.\.\.", ".*?").replace(r"\ ", " ")
    out = re.sub(r"(?<![A-Za-z])N(?![A-Za-z])", r"[\\d,.]+", out)
    return re.compile(out.replace(" ", r"\s+"))


def primary_quotes(paragraph: str) -> list[str]:
    """The quotes of `Expected:`; an `Expected (if ...):` paragraph describes a state this run does
    not produce (an interrupted run, say) and is covered by its own test."""
    text = paragraph.split("Expected:", 1)[1] if "Expected:" in paragraph else ""
    text = re.split(r"\bor\b|\(not|\bIf\b|\n\n", text, maxsplit=1)[0]
    quotes = re.findall(r"`([^`]+)`", text)
    return [q for q in quotes if not q.startswith(("cutover ", "-"))]  # commands and flags named in prose


def steps(runbook: str) -> list[tuple[list[str], list[str]]]:
    """(commands to run, quotes their output must show) for each code block of a runbook."""
    out = []
    for block, after in BLOCK.findall((RUNBOOKS / runbook).read_text()):
        lines = [ln.strip().removeprefix("$ ") for ln in block.replace("\\\n", " ").splitlines()]
        cmds = [ln for ln in lines if runnable(ln)]
        if cmds:
            out.append((cmds, primary_quotes(after)))
    return out


@pytest.fixture
def seeded(settings, clients):
    """Messy but valid legacy data (the bad-item paths have their own tests), replicated once."""
    rng = random.Random(7)
    users = [user(rng, i) for i in range(40)]
    orders = [order(rng, i, [u["userId"] for u in users]) for i in range(60)]
    batch_write(clients.dynamodb, settings.names.source_table("users"), users)
    batch_write(clients.dynamodb, settings.names.source_table("orders"), orders)
    common = ["--endpoint-url", settings.endpoint_url, "--service", settings.service]
    assert CliRunner().invoke(main, ["sync", "--once", "--quiet", *common]).exit_code == 0
    return settings


@pytest.mark.timeout(240)
def test_every_quoted_output_is_what_the_commands_print(seeded, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the runbooks write reports to the current directory
    settings, runner, checked, problems = seeded, CliRunner(), 0, []
    common = ["--endpoint-url", settings.endpoint_url, "--service", settings.service]
    for runbook in ORDER:
        for cmds, quotes in steps(runbook):
            output = ""
            for cmd in cmds:
                result = runner.invoke(main, [*shlex.split(cmd)[1:], *common])
                output += result.output
            for quote in quotes:
                checked += 1
                if not pattern(quote).search(output):
                    problems.append(f"{runbook}: after `{' ; '.join(cmds)}` expected `{quote}`; got:\n{output[-600:]}")
    assert checked >= 8, "the runbooks quote fewer outputs than expected: is the extraction broken?"
    assert not problems, "\n\n".join(problems)
