"""Run one Lambda invocation of a deployed Python function in a child process, as Lambda would.

Why a child process: environment variables and credentials are process-wide, and each asset
carries its own copy of `cutover/`, so the handler must import from its deployed zip and nothing
else. The child gets the deployed code and layers (extracted to a temporary folder, layers'
`python/` on the path as Lambda mounts them at /opt/python), the function's configured
environment, the endpoint the rehearsal serves AWS on, and none of this project's packages (the
editable install's import hook and the checkout are taken off the path), so a module the asset
forgot to bundle fails here as it would on AWS.

The result is Lambda's: the handler's return value, or `errorMessage`/`errorType` when it raised
(what the CDK Provider framework turns into a FAILED custom resource). Used for custom
resources at deploy time; the rehearsal's run of the machines has its own per-function workers.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

# The child's whole program: no import of this project, ever (it would shadow the asset's copy).
BOOTSTRAP = r"""
import importlib, json, sys, traceback
code, layers, root, handler, event_path, out_path = sys.argv[1:7]
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__name__.lower()
                    and "editable" not in getattr(f, "__name__", "").lower()]
sys.path[:] = [code, *json.loads(layers)] + [p for p in sys.path if p and p.rstrip("/") != root]
module_name, _, function = handler.rpartition(".")
try:
    result = {"ok": getattr(importlib.import_module(module_name), function)(json.load(open(event_path)), None)}
except Exception as error:
    result = {"errorMessage": str(error), "errorType": type(error).__name__,
              "stackTrace": traceback.format_exc().splitlines()[-8:]}
with open(out_path, "w") as out:
    json.dump(result, out, default=str)
"""


@dataclass(frozen=True)
class Invocation:
    """What came back: `payload` (the handler's return value) or `error` (its message)."""

    payload: Any = None
    error: str | None = None
    error_type: str | None = None
    log: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


def _extract(zipped: bytes, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        archive.extractall(into)
    return into


def invoke(
    *,
    code_zip: bytes,
    handler: str,
    event: Mapping[str, Any],
    environment: Mapping[str, str],
    aws: Mapping[str, str],
    layer_zips: Sequence[bytes] = (),
    timeout: float = 60.0,
) -> Invocation:
    """Invoke `handler` (`module.function`) of the zipped code with `event`.

    `environment`: the function's configured variables; `aws`: the runtime's own (region,
    credentials, `AWS_ENDPOINT_URL` of the rehearsal's backend). Nothing else of this process's
    environment is passed on but PATH and the locale.
    """
    with tempfile.TemporaryDirectory(prefix="cutover-lambda-") as tmp:
        work = Path(tmp)
        code = _extract(code_zip, work / "task")
        layers = [str(_extract(z, work / f"layer{i}") / "python") for i, z in enumerate(layer_zips)]
        (work / "event.json").write_text(json.dumps(event))
        out = work / "result.json"
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")}
        env.update({**environment, **aws, "LAMBDA_TASK_ROOT": str(code), "PYTHONDONTWRITEBYTECODE": "1"})
        args = [sys.executable, "-I", "-c", BOOTSTRAP, str(code), json.dumps(layers), str(ROOT), handler]
        try:
            done = subprocess.run(
                [*args, str(work / "event.json"), str(out)],
                cwd=code,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Invocation(error=f"Task timed out after {timeout:.0f} seconds", error_type="TimeoutError")
        log = (done.stdout + done.stderr)[-4000:]
        if not out.exists():
            return Invocation(error=f"Runtime exited with status {done.returncode}: {log[-300:]}", log=log)
        result = json.loads(out.read_text())
    if "ok" in result:
        return Invocation(payload=result["ok"], log=log)
    return Invocation(error=result["errorMessage"], error_type=result["errorType"], log=log)
