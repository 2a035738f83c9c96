"""Ctrl-C on a backfill showing its progress bars, on a real (pseudo-)terminal: the line that says
what is being saved stays on the screen whole, above the bars, instead of being overwritten by
their next refresh.

What the terminal shows is rebuilt from the bytes the command wrote with a small screen model
(text, CR/LF, autowrap at 80 columns, cursor up, erase line: what rich's live display uses).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cutover.codec import to_ddb

pytestmark = pytest.mark.server

WIDTH = 80
CSI = re.compile(r"\x1b\[([?0-9;]*)([A-Za-z])")


def screen(output: str, width: int = WIDTH) -> list[str]:
    """The logical lines left on a `width`-column terminal after `output` (a wrapped line rejoined)."""
    rows: list[list[str]] = [[]]
    continued = [False]
    row = col = 0
    i = 0
    while i < len(output):
        ch = output[i]
        m = CSI.match(output, i) if ch == "\x1b" else None
        if m:
            arg, op = m.groups()
            n = int(arg) if arg.isdigit() else 1
            if op == "A":
                row = max(0, row - n)
            elif op == "K":  # erase in line: 2 whole line, 0/none from the cursor
                rows[row] = [] if arg == "2" else rows[row][:col]
            i = m.end()
            continue
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row += 1
            col = 0
        elif ch >= " ":
            if col >= width:
                row, col = row + 1, 0
                while len(rows) <= row:
                    rows.append([])
                    continued.append(False)
                continued[row] = True
            line = rows[row]
            line.extend(" " * (col - len(line) + 1))
            line[col] = ch
            col += 1
        while len(rows) <= row:
            rows.append([])
            continued.append(False)
        i += 1
    logical: list[str] = []
    for cells, cont in zip(rows, continued, strict=True):
        text = "".join(cells)
        if cont and logical:
            logical[-1] += text
        else:
            logical.append(text)
    return [text.rstrip() for text in logical]


def test_the_screen_model_rebuilds_what_a_live_display_leaves():
    # a line, then a two-line live region redrawn twice (cursor up + erase), then a final print
    out = "first\nbar 1\nbar 2\r\x1b[2K\x1b[1A\x1b[2Kbar 3\nbar 4\n" + "x" * 85 + "\n"
    assert screen(out) == ["first", "bar 3", "bar 4", "x" * 85, ""]


@pytest.mark.timeout(90)
def test_ctrl_c_line_is_whole_on_screen_above_the_progress_bars(settings, clients):
    # Given a slow backfill (--rate) with its two progress bars on an 80-column terminal
    for i in range(120):
        user = {"userId": f"c{i}", "email": "a@b"}
        clients.dynamodb.put_item(TableName=settings.names.source_table("users"), Item=to_ddb(user))
        clients.dynamodb.put_item(
            TableName=settings.names.source_table("orders"),
            Item=to_ddb({"orderId": f"o{i}", "userId": f"c{i}", "amount": 1}),
        )
    controller, terminal = os.openpty()
    env = {**os.environ, "COLUMNS": str(WIDTH), "LINES": "24", "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    argv = [str(Path(sys.executable).with_name("cutover")), "backfill", "--endpoint-url", settings.endpoint_url]
    argv += ["--service", settings.service, "--table", "all", "--rate", "10", "--page-size", "5"]
    argv += ["--segments", "2", "--i-know-sync-is-off"]
    proc = subprocess.Popen(argv, stdin=terminal, stdout=terminal, stderr=terminal, env=env, close_fds=True)
    os.close(terminal)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(controller, 4096)
            except OSError:  # EIO: the child closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(4)
    # When Ctrl-C arrives while the bars are drawn
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    reader.join(timeout=10)
    os.close(controller)
    lines = screen(b"".join(chunks).decode("utf-8", "replace"))
    shown = "\n".join(lines)
    # Then the line saying what is saved is on the screen, on lines of its own (not glued to a bar), whole
    said = (
        "interrupted: finishing the pages in flight and saving each segment's cursor; "
        "run the same command again to resume"
    )
    starts = [i for i, line in enumerate(lines) if line.startswith("interrupted:")]
    assert starts, shown
    assert said in " ".join(lines[starts[0] : starts[0] + 3]), shown
    # (the bars were shown, both of them) and the run exits 130
    assert any(line.startswith("users") and "items/s" in line for line in lines), shown
    assert any(line.startswith("orders") and "items/s" in line for line in lines), shown
    assert proc.returncode == 130, shown
