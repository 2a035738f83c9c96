"""The repository itself: no merge-conflict markers in a tracked file, no report file git would
track, a test run that leaves the checkout as it found it (tests/conftest.py fails the session),
and no literal date near today in test code unless it says why the clock cannot reach it.

A merge left conflict markers in DESIGN.md, reconcile reports were committed at the root, and
the suite wrote reports into the clone; nothing failed any of those times. Each scanner is tested
on synthetic input first, so an empty result cannot mean "the scanner is broken".
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from date_lint import literal_dates  # tests/ is on sys.path
from repo_hygiene import (  # tests/ is on sys.path
    REPO,
    STATUS_BEFORE,
    conflict_markers,
    git_root,
    is_ignored,
    read_text,
    status_changes,
    status_snapshot,
    tracked_files,
)

from cutover_cli.remote import new_run_id
from reconciler.report import run_path
from reconciler.run import DEFAULT_REPORT

OPEN, BASE, SEP, CLOSE = "<" * 7, "|" * 7, "=" * 7, ">" * 7  # never spelled out: this file is tracked too


def test_the_scanner_finds_every_marker_of_a_conflict() -> None:
    text = f"intro\n{OPEN} HEAD\nours\n{BASE} base\nbase\n{SEP}\ntheirs\n{CLOSE} remote\noutro\n"
    assert conflict_markers(text) == [2, 4, 6, 8]


def test_the_scanner_finds_half_a_conflict() -> None:
    """A resolution that kept one side's marker by mistake is still a conflict."""
    assert conflict_markers(f"ours\n{CLOSE} remote\n") == [2]
    assert conflict_markers(f"{OPEN}\nours\n") == [1]


def test_the_scanner_ignores_setext_underlines_and_quoted_markers() -> None:
    markdown = f"Title\n{SEP}\n\ntext with {OPEN} inside\n    {CLOSE} indented\n"
    assert conflict_markers(markdown) == []


def test_no_tracked_text_file_has_conflict_markers() -> None:
    root = git_root()
    if root is None:
        pytest.skip("not a git checkout (or git is not installed): no tracked files to scan")
    files = tracked_files(root)
    assert len(files) > 50, f"git ls-files listed only {len(files)} files under {root}: is this the repository?"
    found = []
    for path in files:
        text = read_text(path)
        if text is not None and (lines := conflict_markers(text)):
            found.append(f"{path.relative_to(root)}: lines {', '.join(map(str, lines))}")
    assert not found, (
        "unresolved merge-conflict markers (resolve them by keeping one coherent text from both sides):\n"
        + "\n".join(found)
    )


REPORT_OPTION = re.compile(r"--report[ =]([^\s`'\"]+)")


def runbook_report_names() -> set[str]:
    """Every `--report NAME` in the runbooks and the README, plus the CLI's default."""
    docs = [*sorted((REPO / "runbooks").glob("*.md")), REPO / "README.md"]
    names = {m.group(1) for doc in docs for m in REPORT_OPTION.finditer(doc.read_text(encoding="utf-8"))}
    return {name for name in names if not name.isupper()} | {DEFAULT_REPORT}  # PATH in the README's usage


def test_the_runbooks_name_reports() -> None:
    """The scan below is only worth something if it finds the names (a reworded runbook would empty it)."""
    assert {"reconcile-report.json", "reconcile-repair.json"} <= runbook_report_names()


def test_gitignore_covers_every_report_a_runbook_writes() -> None:
    """The named file, its per-run copy and the files a run renames into place, as reconciler/report.py names them."""
    root = git_root()
    if root is None:
        pytest.skip("not a git checkout (or git is not installed): no .gitignore to check")
    run_id = new_run_id()
    missed = []
    for name in sorted(runbook_report_names()):
        per_run = run_path(name, run_id)
        for path in (name, per_run, f"{per_run}.partial", f"{per_run}.publish"):
            if not is_ignored(root, path):
                missed.append(path)
    assert not missed, f"add to .gitignore (a runbook writes these, and they must not be committed): {missed}"


def test_status_changes_name_what_a_run_left_and_forgive_only_caches() -> None:
    before = {"!! .venv/", " M DESIGN.md", "?? notes.txt"}
    after = before - {"?? notes.txt"} | {
        "!! reconcile-report.json",
        "!! build/",
        "?? tests/unit/__pycache__/",
        "!! .pytest_cache/",
        "!! .hypothesis/",
    }
    assert status_changes(before, after) == ["+ !! build/", "+ !! reconcile-report.json", "- ?? notes.txt"]


def test_the_clean_checkout_check_is_armed_in_this_session(request: pytest.FixtureRequest) -> None:
    """In a git checkout the session hook must have recorded the status: otherwise it checks nothing."""
    root = git_root()
    if root is None:
        pytest.skip("not a git checkout (or git is not installed): the session check skips too")
    assert status_snapshot(root) is not None, f"`git status` fails in {root}: the session check would be skipped"
    assert STATUS_BEFORE in request.config.stash, "tests/conftest.py did not record the status at session start"


# Literal dates another branch is removing, each with where it is fixed. An entry that no longer
# matches fails the test below, so the list cannot outlive the fix.
KNOWN_DATE_LITERALS: set[tuple[str, str]] = set()  # (path, finding) accepted for now; keep it empty


def _today_plus(days: int) -> date:
    return date.today() + timedelta(days=days)


def test_the_date_lint_flags_near_dates_in_every_spelling() -> None:
    soon, stamp = _today_plus(30), int(datetime.now(UTC).timestamp()) + 86_400
    source = "\n".join(
        [
            "from datetime import UTC, datetime",
            f"LABEL = datetime({soon.year}, {soon.month}, {soon.day}, 12, 0)",
            f'ARN = "arn:aws:dynamodb:us-east-1:1:table/t/stream/{soon.isoformat()}T00:00:00.000"',
            f'VERSION = "{soon.strftime("%Y%m%d")}T000000000000.1"',
            f"CREATED = {stamp}",
            f"CREATED_MS = {stamp * 1000}",
            f'CREATED_TEXT = "{stamp}"',
            f"OTHER = datetime({soon.year}, 1, 1)  # fixed-date:",  # a marker without a reason does not count
            f'NOTE = "# fixed-date: in a string, not a comment {soon.isoformat()}"',
            "assert LABEL > datetime.now(UTC)",
        ]
    )
    assert [f.line for f in literal_dates(source, date.today())] == [2, 3, 4, 5, 6, 7, 8, 9]


def test_the_date_lint_passes_relative_far_and_explained_dates() -> None:
    soon, past, far = _today_plus(30), _today_plus(-20 * 366), _today_plus(50 * 366)
    source = "\n".join(
        [
            "from datetime import UTC, datetime, timedelta",
            "LABEL = datetime.now(UTC) - timedelta(days=1)",
            f"EPOCH_PARSE = datetime({past.year}, 1, 1)",
            f'FAR = "{far.isoformat()}"',
            f"PINNED = datetime({soon.year}, {soon.month}, {soon.day})  # fixed-date: injected as the clock",
            "# fixed-date: a stream label only compared with versions built from it",
            f'ARN = "arn:aws:dynamodb:us-east-1:1:table/t/stream/{soon.isoformat()}T00:00:00.000"',
            "ROWS = [",
            f'    ("{soon.isoformat()}", 1),  # fixed-date: parse input, no clock',
            f'    ("{soon.isoformat()}", 2),',
            "]",
            "COUNT = 1_000_000",
        ]
    )
    assert literal_dates(source, date.today()) == []


def test_the_date_lint_would_have_caught_the_literal_that_broke_main() -> None:
    """tests/streams_double.py's stream labels, linted on the days around the one they broke."""
    source = "LABEL = datetime(2026, 11, 27, 12, 0) + timedelta(seconds=1)\n"
    # fixed-date: the literal's own date and the days the lint runs on, not compared with the clock
    before, after, long_after = date(2026, 6, 1), date(2026, 11, 28), date(2028, 1, 1)
    assert [str(f) for f in literal_dates(source, before)] == ["1: datetime(2026, 11, 27, ...)"]
    assert [str(f) for f in literal_dates(source, after)] == ["1: datetime(2026, 11, 27, ...)"]
    assert literal_dates(source, long_after) == []  # over a year past: it compares as it did a year ago


def test_no_test_compares_an_unexplained_literal_date_with_the_clock() -> None:
    """Near-today literal dates in tests/ and bench/: derive them from the clock, inject a clock, or
    say why no clock reaches them with `# fixed-date: <why>` (tests/date_lint.py explains)."""
    files = sorted(p for folder in ("tests", "bench") for p in (REPO / folder).rglob("*.py"))
    assert len(files) > 50, f"found only {len(files)} Python files under tests/ and bench/ in {REPO}"
    found = [
        (path.relative_to(REPO).as_posix(), finding)
        for path in files
        for finding in literal_dates(path.read_text(encoding="utf-8"), date.today())
    ]
    stale = sorted(KNOWN_DATE_LITERALS - {(path, finding.what) for path, finding in found})
    assert not stale, f"remove from KNOWN_DATE_LITERALS (fixed, or changed): {stale}"
    new = [f"{path}:{finding}" for path, finding in found if (path, finding.what) not in KNOWN_DATE_LITERALS]
    assert not new, (
        "literal dates near today (a comparison with the clock flips the day the clock passes them): "
        "derive each from the clock, inject a clock, or mark fixed data `# fixed-date: <why>`:\n" + "\n".join(new)
    )
