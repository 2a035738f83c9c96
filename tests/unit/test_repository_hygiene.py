"""The repository itself: no merge-conflict markers in a tracked file, no report file git would
track, and a test run that leaves the checkout as it found it (tests/conftest.py fails the session).

A merge left conflict markers in DESIGN.md, reconcile reports were committed at the root, and
the suite wrote reports into the clone; nothing failed any of those times. Each scanner is tested
on synthetic input first, so an empty result cannot mean "the scanner is broken".
"""

from __future__ import annotations

import re

import pytest
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
