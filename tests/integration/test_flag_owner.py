"""One owner for the read-source flag (issue 19, hole 2): the flip control item IS the flag.

What the API obeys and what the flip history records are one conditional write; the SSM
parameter is a mirror for people. Through the real flipper, CLI and API reader, on the moto server.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flag_owner import mirror, read_source, set_read_source  # tests/ is on sys.path
from shadow_world import shadow_phase_done
from test_flip_interlock import _cli, fresh, module_backend, prepare  # same directory: on sys.path

from app_handlers.context import AppConfig, build_context
from app_handlers.read_source import FlagReader
from cutover.state import FLIP, ReportStore

pytestmark = pytest.mark.server
ROLLBACK = Path(__file__).resolve().parents[2] / "runbooks" / "rollback.md"


@pytest.fixture(scope="module")
def backend(moto_server):
    return module_backend(moto_server, "owner")


@pytest.fixture
def world(backend):
    return fresh(*backend)


class Recorder:
    def __init__(self) -> None:
        self.metrics: list[str] = []

    def event(self, metric: str, message: str, level: str = "warning", **fields) -> None:
        self.metrics.append(metric)


def api_reads(settings, clients) -> str:
    """What the deployed API's wiring (build_context) routes reads by, uncached."""
    return build_context(AppConfig.from_settings(settings, cache_seconds=0), clients).flag.current().value


def test_a_rollback_landing_after_a_won_claim_stands_and_the_late_flip_is_told(world, monkeypatch):
    # Given reads on shadow, full evidence, and operator B flipping to v3
    settings, clients = world
    prepare(settings, clients)
    assert _cli(settings, "flip", "shadow")[0] == 0
    shadow_phase_done(settings, clients)  # ... that has run its course (tests/shadow_world.py)
    real, raced = ReportStore.record, []

    def rollback_lands(self, kind, data, **kw):
        # When B has won the compare-and-set and records its history, A rolls back (before B's flag write)
        sk = real(self, kind, data, **kw)
        if kind == FLIP and data["to"] == "v3" and not raced:
            raced.append(_cli(settings, "flip", "legacy", "--reason", "A: errors"))
        return sk

    monkeypatch.setattr(ReportStore, "record", rollback_lands)
    code, out = _cli(settings, "flip", "v3")
    monkeypatch.undo()
    # Then A succeeded, and B is told in one line that its flip was superseded (exit 2)
    assert raced[0] == (0, "read-source: v3 -> legacy\n")
    assert code == 2 and out.count("\n") == 1 and "superseded" in out and "legacy" in out, out
    # And readers obey the last recorded decision: A's rollback; the mirror says so too
    latest = ReportStore(clients.dynamodb, settings.names.reports_table).latest(FLIP)
    assert (latest["from"], latest["to"]) == ("v3", "legacy")
    assert api_reads(settings, clients) == read_source(settings, clients) == mirror(settings, clients) == "legacy"


def test_a_direct_edit_of_the_ssm_mirror_changes_nothing_readers_obey_and_status_shows_it(world):
    # Given reads on shadow through `cutover flip`
    settings, clients = world
    assert _cli(settings, "flip", "shadow")[0] == 0
    # When someone edits the SSM parameter directly
    clients.ssm.put_parameter(Name=settings.names.read_source_parameter, Value="v3", Type="String", Overwrite=True)
    # Then readers still obey the flip: shadow
    assert api_reads(settings, clients) == "shadow"
    # And status shows the disagreement, in JSON and to people
    code, out = _cli(settings, "status", "--json")
    status = json.loads(out)
    assert code == 0 and (status["read_source"], status["read_source_mirror"]) == ("shadow", "v3")
    code, out = _cli(settings, "status")
    assert "mirror DISAGREES" in out and "v3" in out


def test_an_unknown_value_in_the_owner_reads_legacy_with_an_alarm_and_refuses_v3(world):
    # Given the owner holds a value this version does not know (a later phase, a typo)
    settings, clients = world
    set_read_source(settings, clients, "v4")
    # When the API reads it, Then legacy is served and FlagInvalid counted (never silently legacy)
    t = Recorder()
    flag = FlagReader(clients.dynamodb, settings.names.reports_table, 0, t)
    assert flag.current().value == "legacy" and t.metrics == ["FlagInvalid"]
    # And a flip to v3 is refused (v3 only from shadow); a rollback fixes it
    code, out = _cli(settings, "flip", "v3")
    assert code == 1 and "not shadow" in out
    assert _cli(settings, "flip", "legacy") == (0, "read-source: v4 -> legacy\n")
    assert flag.current().value == "legacy" and t.metrics == ["FlagInvalid"]


def test_a_never_flipped_deployment_reads_legacy_without_an_alarm(world):
    settings, clients = world
    t = Recorder()
    assert FlagReader(clients.dynamodb, settings.names.reports_table, 0, t).current().value == "legacy"
    assert not t.metrics


def emergency_command() -> str:
    """The raw command runbooks/rollback.md prints, exactly (continuations joined)."""
    blocks = re.findall(r"```sh\n(.*?)```", ROLLBACK.read_text(), re.S)
    found = [b.replace("\\\n", " ") for b in blocks if b.lstrip().startswith("aws ")]
    assert len(found) == 1, found
    return found[0].strip()


def test_the_runbooks_emergency_rollback_works_as_printed_and_beats_a_flip_in_flight(world, monkeypatch):
    # Given reads on v3 and another operator's flip to shadow being evaluated
    settings, clients = world
    set_read_source(settings, clients, "v3")
    from controlplane.evidence import Stores
    from controlplane.flag import ReadSource
    from controlplane.flipper import FlipConflictError, flip

    stores = Stores.build(settings, clients)
    version, _ = stores.reports.control(FLIP)
    # When the on-call runs the runbook's aws command, exactly as printed
    env = {
        **os.environ,
        "CUTOVER_SERVICE": settings.service,
        "CUTOVER_STAGE": settings.stage,
        "AWS_ENDPOINT_URL": settings.endpoint_url,
        "AWS_DEFAULT_REGION": settings.region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    aws = str(Path(sys.executable).with_name("aws"))
    done = subprocess.run(
        ["bash", "-c", emergency_command()],
        env={**env, "PATH": f"{Path(aws).parent}:{env['PATH']}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # Then readers obey legacy at once, and the flip evaluated before it loses its compare-and-set
    assert api_reads(settings, clients) == "legacy"
    monkeypatch.setattr(stores.reports, "control", lambda kind: (version, None))
    with pytest.raises(FlipConflictError):
        flip(stores, ReadSource.SHADOW, "B")
    assert api_reads(settings, clients) == "legacy"
    # And status shows the edit was made outside `cutover flip`
    code, out = _cli(settings, "status")
    assert code == 0 and "outside `cutover flip`" in out, out


def test_the_owner_key_is_the_flip_control_item():
    # Given the key spelled out for the SDK-free routing library, Then it is the flip's compare-and-set register
    from controlplane.flag import KEY
    from cutover.state import CONTROL

    assert KEY == {"pk": FLIP, "sk": CONTROL}


def test_a_mirror_that_cannot_be_written_never_fails_the_flip(world, monkeypatch):
    # Given SSM refuses the mirror's write
    settings, clients = world
    from controlplane.flag_store import FlagStore

    def refused(self, value):
        raise PermissionError("ssm:PutParameter denied")

    monkeypatch.setattr(FlagStore, "set_mirror", refused)
    # When flipping, Then the flip stands (exit 0) with a warning, and the history records the mirror's error
    code, out = _cli(settings, "flip", "shadow")
    assert code == 0 and "read-source: legacy -> shadow" in out and "warning: the SSM mirror was not updated" in out
    assert api_reads(settings, clients) == "shadow"
    latest = ReportStore(clients.dynamodb, settings.names.reports_table).latest(FLIP)
    assert latest["applied"] is True and "ssm:PutParameter denied" in latest["mirror_error"]
