"""The README is executable: "Try it by hand" runs exactly as printed, and every link resolves."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKDOWN = sorted(p for p in ROOT.rglob("*.md") if not {"node_modules", ".venv", "build", "cdk.out"} & set(p.parts))


def try_it_by_hand() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("### Try it by hand", 1)[1]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


@pytest.mark.timeout(240)
def test_try_it_by_hand_runs_as_printed(tmp_path):
    # Given a fresh shell: the venv's bin first on PATH, no AWS settings, a clean HOME
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CUTOVER_"))}
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}", HOME=str(tmp_path))
    script = "set -e\n" + try_it_by_hand()
    # When the block is pasted into bash, in a scratch directory: `cutover reconcile` writes its
    # report to the current directory, and a test must not leave files in the clone
    proc = subprocess.Popen(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=200)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # whatever the block left running
        except ProcessLookupError:
            pass
    # Then every step succeeded and the API served the user as v3's contract shapes it
    assert proc.returncode == 0, out[-3000:]
    assert "export AWS_DEFAULT_REGION=us-east-1" in out, out[-3000:]
    assert re.search(r"CLEAN|clean", out), out[-3000:]
    assert '"userId": "u1"' in out or '"userId":"u1"' in out, out[-3000:]


@pytest.mark.parametrize("doc", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_markdown_link_resolves_in_a_fresh_clone(doc):
    # Given a Markdown file of the project, Then each relative link points at a file of the repository
    text = doc.read_text()
    missing = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = (doc.parent / target.split("#", 1)[0]).resolve()
        if not path.exists() or ROOT not in path.parents and path != ROOT:
            missing.append(target)
    assert not missing, f"{doc.relative_to(ROOT)} links to {missing}, which a fresh clone does not have"
    assert "../shared" not in text, f"{doc.relative_to(ROOT)} mentions ../shared, which a clone does not have"
