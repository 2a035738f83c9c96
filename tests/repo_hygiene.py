"""Checks on the repository itself, shared by tests/unit/test_repository_hygiene.py and tests/conftest.py.

A merge once left conflict markers in DESIGN.md, and the suite once wrote report files into the
clone it ran in; neither broke a test, so both went unnoticed. These helpers make each a failure.
They need git (the tracked files, the status); without it, or outside a checkout, `git_root`
returns None and the callers skip rather than pass on an empty list.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# A conflict's opening, base (diff3/zdiff3) and closing lines: git always writes a label after them.
# The separator `=======` carries no label and is also a legitimate setext heading underline in
# Markdown/reST, so it counts only in a file that has one of the labelled markers too.
_LABELLED_MARKERS = ("<" * 7 + " ", "|" * 7 + " ", ">" * 7 + " ")
_BARE_MARKERS = tuple(marker.rstrip() for marker in _LABELLED_MARKERS)  # an empty label, by hand
_SEPARATOR = "=" * 7


def git_root(start: Path = REPO) -> Path | None:
    """The top of the git checkout holding `start`, or None if git is missing or this is no checkout."""
    if shutil.which("git") is None:
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(start), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out) if out else None


def tracked_files(root: Path) -> list[Path]:
    """Every file git tracks under `root` that exists on disk (a deleted, unstaged file is skipped)."""
    out = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True, timeout=60).stdout
    paths = (root / name for name in out.decode("utf-8", "surrogateescape").split("\0") if name)
    return [p for p in paths if p.is_file() and not p.is_symlink()]


def read_text(path: Path) -> str | None:
    """The file as text, or None if it is binary (a NUL byte, or not UTF-8)."""
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def conflict_markers(text: str) -> list[int]:
    """1-based line numbers of merge-conflict markers in `text` (empty if it has none).

    Labelled markers (`<<<<<<< HEAD`, `||||||| base`, `>>>>>>> branch`) always count; a bare
    `=======` line counts only alongside one of them, so a setext underline is not flagged.
    """
    lines = text.splitlines()
    labelled = [
        n for n, line in enumerate(lines, 1) if line.startswith(_LABELLED_MARKERS) or line.rstrip() in _BARE_MARKERS
    ]
    if not labelled:
        return []
    separators = [n for n, line in enumerate(lines, 1) if line.rstrip() == _SEPARATOR]
    return sorted(labelled + separators)


def is_ignored(root: Path, relative: str) -> bool:
    """Whether git would ignore `relative` (a path that need not exist, tracked or not) under `root`."""
    done = subprocess.run(
        ["git", "-C", str(root), "check-ignore", "--quiet", "--no-index", relative], capture_output=True, timeout=30
    )
    if done.returncode not in (0, 1):
        raise RuntimeError(f"git check-ignore {relative} failed ({done.returncode}): {done.stderr.decode().strip()}")
    return done.returncode == 0


# What a test run may leave in the checkout: pytest's and hypothesis's caches and bytecode.
# Everything else a test writes belongs in tmp_path (or another temporary directory).
TRANSIENT_PARTS = (".pytest_cache", ".hypothesis", "__pycache__")
# Where tests/conftest.py keeps (checkout, status at session start); absent means "not checked".
STATUS_BEFORE = pytest.StashKey[tuple[Path, set[str]]]()


def status_snapshot(root: Path) -> set[str] | None:
    """`git status --porcelain --ignored` as a set of lines, or None if git cannot tell."""
    try:
        done = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(root), "status", "--porcelain", "--ignored"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return set(done.stdout.splitlines())


def _transient(line: str) -> bool:
    path = line[3:].strip('"')
    return any(part in TRANSIENT_PARTS for part in Path(path.rstrip("/")).parts)


def status_changes(before: set[str], after: set[str]) -> list[str]:
    """The status lines that appeared or disappeared, minus caches; `+`/`-` says which."""
    appeared = sorted(f"+ {line}" for line in after - before if not _transient(line))
    vanished = sorted(f"- {line}" for line in before - after if not _transient(line))
    return appeared + vanished
