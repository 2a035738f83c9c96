"""The repository itself: no merge-conflict markers in a tracked file.

A merge left `<<<<<<<`/`=======`/`>>>>>>>` in DESIGN.md and nothing failed; this test fails on the
next one. The scanner is tested on synthetic text first, so an empty result cannot mean "broken".
"""

from __future__ import annotations

import pytest
from repo_hygiene import conflict_markers, git_root, read_text, tracked_files  # tests/ is on sys.path

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
