"""The reconcile report: counts, and every difference streamed to a JSON file as it is found.

Each run writes its OWN file, named with its run id: differences go to `<stem>.<run id><suffix>
.partial` as they arrive (never collected in memory beyond `SHOWN` for the screen) and the file is
renamed to `<stem>.<run id><suffix>` when the run ends, so a crashed run never leaves a file that
looks complete and two runs at once never share a file. That file is what the stored summary
names; a copy is then published at `<path>` for convenience (the last run to finish wins it).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from cutover.codec import json_default
from cutover.migration_loader import load_migration

SHOWN = 20
COUNT_NAMES = (
    "compared",
    "v3_checked",
    "not_migrated",
    "missing",
    "extra",
    "different",
    "quarantined",
    "unquarantined",
    "repaired",
    "remaining",
    "quarantine_resolved",
)
DIFFERENCE_COUNTS = ("missing", "extra", "different", "unquarantined")


@dataclass
class Difference:
    kind: str  # missing | extra | different | unquarantined_bad_item
    source: str | None  # the source role (None: a v3 item no source of the migration wrote)
    source_key: str | None  # the source item's key text (`Migration.source_key_text`)
    v3_key: tuple[Any, ...] | None  # the target key's values, (hash[, range])
    detail: str = ""
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    repaired: bool | None = None  # None: --repair not requested
    remaining: bool = True  # still differs after the (optional) repair and re-check
    key_names: tuple[str, ...] | None = None  # the target's key attributes (None: the process's definition)

    def v3_key_dict(self) -> dict[str, Any] | None:
        """The target key by attribute name, as the report file stores it."""
        if self.v3_key is None:
            return None
        names = self.key_names if self.key_names is not None else load_migration().target.key_names
        return dict(zip(names, self.v3_key, strict=True))

    @property
    def v3_key_text(self) -> str:
        """The target key as one line shows it: its values joined by `/`, or `-`."""
        return "-" if self.v3_key is None else "/".join(str(json_default(v)) for v in self.v3_key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "source_key": self.source_key,
            "v3_key": self.v3_key_dict(),
            "detail": self.detail,
            "attributes": self.attributes,
            "repaired": self.repaired,
            "remaining": self.remaining,
        }


class DifferenceSink:
    """Thread-safe counter + streaming writer for one reconcile run."""

    def __init__(self, path: str | None, run_id: str = "run") -> None:
        self.published = path
        self.path = run_path(path, run_id) if path else None
        self.counts = dict.fromkeys(COUNT_NAMES, 0)
        self.shown: list[Difference] = []
        self._lock = threading.Lock()
        self._first = True
        self._file: TextIO | None = None
        if path:
            self._file = open(f"{self.path}.partial", "w", encoding="utf-8")  # noqa: SIM115 - closed in finish()
            self._file.write('{\n"differences": [\n')

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counts[name] += n

    def add(self, diff: Difference) -> None:
        key = "unquarantined" if diff.kind == "unquarantined_bad_item" else diff.kind
        line = json.dumps(diff.to_dict(), sort_keys=True, default=json_default)
        with self._lock:
            self.counts[key] += 1
            self.counts["repaired"] += int(bool(diff.repaired) and not diff.remaining)
            self.counts["remaining"] += int(diff.remaining)
            if len(self.shown) < SHOWN:
                self.shown.append(diff)
            if self._file is not None:
                self._file.write(("" if self._first else ",\n") + line)
                self._first = False

    def finish(self, summary: dict[str, Any]) -> None:
        if self._file is None:
            return
        self._file.write('\n],\n"summary": ' + json.dumps(summary, sort_keys=True, default=json_default) + "\n}\n")
        self._file.close()
        os.replace(f"{self.path}.partial", str(self.path))
        tmp = f"{self.path}.publish"
        shutil.copyfile(str(self.path), tmp)
        os.replace(tmp, str(self.published))

    def abort(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()


def run_path(path: str, run_id: str) -> str:
    """`reconcile-report.json` -> `reconcile-report.<run id>.json`: one file per run."""
    p = Path(path)
    return str(p.with_name(f"{p.stem}.{run_id}{p.suffix}"))


@dataclass
class ReconcileReport:
    started_at: str
    finished_at: str
    counts: dict[str, int]
    sample: float | None
    report_path: str | None
    repair: bool
    seconds: float
    shown: list[Difference]
    run_id: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)  # what held when the run STARTED (for the gate)

    @property
    def differences(self) -> int:
        return sum(self.counts[k] for k in DIFFERENCE_COUNTS)

    @property
    def clean(self) -> bool:
        """No difference remains (after --repair, what it fixed and re-checked does not count)."""
        return self.counts["remaining"] == 0

    def to_dict(self) -> dict[str, Any]:
        rate = (self.counts["compared"] + self.counts["v3_checked"]) / self.seconds if self.seconds > 0 else 0.0
        return {
            **self.record(),
            "seconds": round(self.seconds, 3),
            "items_per_second": round(rate, 1),
            "differences_shown": [d.to_dict() for d in self.shown],
        }

    def record(self) -> dict[str, Any]:
        """The summary stored in the reports table (what the flip interlock reads)."""
        return {
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "clean": self.clean,
            "counts": dict(self.counts),
            "sample": self.sample,
            "report_path": self.report_path,
            "repair": self.repair,
            "run_id": self.run_id,
            "at_start": dict(self.evidence),
        }
