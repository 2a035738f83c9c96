"""A lint for literal dates near today in test code (run by tests/unit/test_repository_hygiene.py).

Why: tests/streams_double.py labelled new streams `datetime(2026, 11, 27, 12, 0) + n s` beside
streams moto labels with the real time, and the suite went red the day the real time passed it. A literal
date only flips a comparison with the clock when the clock crosses it, so the dates that matter
are the ones near today: far-past and far-future literals compare the same way for years. Which
literal reaches a `now()` inside the code under test cannot be read from the test's source, so
every literal date near today (`Window`) is flagged, wherever it is, unless the statement that
holds it says why it is safe, on one of its lines or on a comment line just above its first:

    ARN = ".../stream/<a date>"  # fixed-date: only compared with versions built from this ARN

The reason is required; a bare marker does not count. A date that IS compared with the clock is
fixed by deriving it from the clock (`datetime.now(UTC) - timedelta(...)`) or injecting a clock.

What counts as a literal date: `datetime(Y, ...)`/`date(Y, ...)` with a literal year; a string
holding `YYYY-MM-DD` or a compact `YYYYMMDDTHH` stamp; an int, float or numeric string in the
epoch-seconds or epoch-milliseconds range of the window.
"""

from __future__ import annotations

import ast
import calendar
import io
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

PAST_DAYS = 366
FUTURE_YEARS = 10
_ALLOW = re.compile(r"#\s*fixed-date:\s*\S")  # a real comment (tokenize), with a reason
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_COMPACT = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})T\d{2}")
_EPOCH_TEXT = re.compile(r"\d{10}(\.\d+)?|\d{13}")
_COMPOUND = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.Match,
)


@dataclass(frozen=True)
class Finding:
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.line}: {self.what}"


@dataclass(frozen=True)
class Window:
    """The dates a literal is flagged in: from PAST_DAYS ago to the end of FUTURE_YEARS from now.

    Past: a literal that has been in the past for over a year compares with now the same way it
    did a year ago, and will again (no threshold in cutover is a year long). Future: every future
    literal flips when the clock reaches it; one more than FUTURE_YEARS out outlives the code.
    """

    first: date
    last: date

    @classmethod
    def around(cls, today: date) -> Window:
        return cls(today - timedelta(days=PAST_DAYS), date(today.year + FUTURE_YEARS, 12, 31))

    def has_year(self, year: int, month: int | None = None, day: int | None = None) -> bool:
        """`year` (and `month`/`day` when known) overlaps the window."""
        try:
            earliest = date(year, month or 1, day or 1)
            last_day = calendar.monthrange(year, month or 12)[1]
            latest = date(year, month or 12, day or last_day)
        except ValueError:  # calendar.IllegalMonthError is one too
            return False  # not a date (e.g. a month 13 a parser must refuse): nothing to flip
        return earliest <= self.last and latest >= self.first

    def has_date(self, year: str, month: str, day: str) -> bool:
        return self.has_year(int(year), int(month), int(day))

    def has_epoch(self, value: float) -> bool:
        low = datetime.combine(self.first, time(), UTC).timestamp()
        high = datetime.combine(self.last + timedelta(days=1), time(), UTC).timestamp()
        return low <= value < high or low * 1000 <= value < high * 1000


def _string_date(text: str, window: Window) -> str | None:
    for pattern in (_ISO, _COMPACT):
        for match in pattern.finditer(text):
            if window.has_date(*match.groups()):
                return match.group(0)
    if _EPOCH_TEXT.fullmatch(text.strip()) and window.has_epoch(float(text)):
        return text.strip()
    return None


def _int(node: ast.expr) -> int | None:
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else None


def _literal_date(node: ast.AST, window: Window) -> str | None:
    """What makes `node` a literal date in the window, or None."""
    if isinstance(node, ast.Call) and node.args:
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        year, month, day = ([_int(arg) for arg in node.args[:3]] + [None, None])[:3]
        if name in ("datetime", "date") and year is not None and window.has_year(year, month, day):
            return f"{name}({', '.join(map(str, filter(None, (year, month, day))))}, ...)"
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            found = _string_date(node.value, window)
            return None if found is None else repr(found)
        if type(node.value) in (int, float) and window.has_epoch(node.value):
            return f"epoch {node.value}"
    return None


def _statements(tree: ast.AST) -> Iterator[ast.AST]:
    """The spans an allow marker covers: each simple statement, each compound statement's header
    (its decorators, and everything up to its body), never a whole function or class body."""
    for node in ast.walk(tree):
        if isinstance(node, _COMPOUND):
            yield from getattr(node, "decorator_list", ())
            for field in ("test", "iter", "target", "items", "subject", "args", "bases", "returns"):
                value = getattr(node, field, None)
                for part in value if isinstance(value, list) else [value]:
                    if isinstance(part, ast.AST) and hasattr(part, "lineno"):
                        yield part
        elif isinstance(node, ast.stmt):
            yield node


def _span(node: ast.AST) -> range:
    start = getattr(node, "lineno", 0)
    return range(start, (getattr(node, "end_lineno", None) or start) + 1)


def _allowed_lines(source: str) -> set[int]:
    """Lines an allow marker covers: its own, and the next one if the comment stands alone."""
    lines = source.splitlines()
    allowed: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and _ALLOW.search(token.string):
            row, col = token.start
            allowed.add(row)
            if not lines[row - 1][:col].strip():
                allowed.add(row + 1)
    return allowed


def literal_dates(source: str, today: date) -> list[Finding]:
    """Every literal date near `today` in `source` whose statement carries no `# fixed-date: why`."""
    tree = ast.parse(source)
    allowed = _allowed_lines(source)
    window = Window.around(today)
    findings: list[Finding] = []
    covered: set[int] = set()
    for node in ast.walk(tree):
        what = _literal_date(node, window)
        if what is None or node.lineno in covered:
            continue  # one finding per line: `datetime(Y, ...)` and its year are the same literal
        spans = [_span(s) for s in _statements(tree) if node.lineno in _span(s)]
        smallest = min(spans, key=len, default=_span(node))
        if allowed.isdisjoint(smallest) and allowed.isdisjoint(_span(node)):
            findings.append(Finding(node.lineno, what))
            covered.add(node.lineno)
    return sorted(findings, key=lambda f: f.line)
