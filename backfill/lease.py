"""One backfill at a time: a lease item in the checkpoints table (pk `backfill-lease`, sk `lease`).

Why one per migration and stage, not per table: `--rate` protects the legacy tables together,
and two runs (two terminals, or a local and a `--remote` run) doubled that load and mixed their
counts (issue 19.8). The lease is taken with one conditional PutItem: absent, expired, released,
or held by the same holder. Holders: a local run is one process (token `local:<uuid>`; a resume
in another process is a new holder, so it waits for a Ctrl-C'd run's release or a killed run's
expiry); a remote run is its run id (the CLI that starts or re-attaches to it and every segment
Lambda of its executions share it, so the Lambdas keep it alive while the CLI is detached).

Expiry is judged on ONE clock, the backend's: each holder writes `expiresAt` = the Date header of
its own read of the lease + TTL, and a contender compares with the Date header of its read. No
machine's clock is ever compared with another's; the assumption is only that the backend's
front-ends agree to within a second or two (whole-second Date headers, AWS's NTP), far below
the TTLs. A backend without a Date header falls back to the local clock.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from backfill.errors import LeaseHeldError
from cutover.clock import iso, now, parse_iso
from cutover.retry import call_with_retry
from cutover.state import CheckpointStore

LEASE_PK, LEASE_SK = "backfill-lease", "lease"
LOCAL_TTL = 60.0  # a local run renews every TTL/3 from a thread; a killed one blocks at most a minute
# A remote run is renewed by the following CLI (each poll) and by each segment invocation as it
# starts; a Lambda runs at most 15 minutes, so 20 covers the gap between two invocations' renewals.
REMOTE_TTL = 20 * 60.0
_TAKE = "attribute_not_exists(pk) OR expiresAt < :now OR holder = :me"


@dataclass(frozen=True)
class Holder:
    token: str  # what "the same holder" means: a local process, or a remote run id
    run_id: str
    where: str  # host and pid, or AWS
    command: str


def local_holder(command: str) -> Holder:
    return Holder(f"local:{uuid.uuid4().hex[:12]}", "", _here(os.getpid()), command)


def _here(pid: int) -> str:
    return f"{socket.gethostname()} pid {pid}"


def dead_here(held: dict[str, Any]) -> bool:
    """The holder is a local run on this host whose process no longer exists (killed, crashed).

    So the same command, run again right after a `kill -9`, resumes at once instead of waiting
    out the TTL. A reused pid only makes it wait; assumes hostnames tell machines apart."""
    where, token = str(held.get("where", "")), str(held.get("token", ""))
    host, _, pid = where.rpartition(" pid ")
    if not token.startswith("local:") or host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


class BackfillLease:
    def __init__(
        self, store: CheckpointStore, holder: Holder, ttl: float, *, clock: Callable[[], float] | None = None
    ) -> None:
        self._store, self.holder, self.ttl, self._clock = store, holder, ttl, clock

    def acquire(self, *, steal: bool = False) -> bool:
        """Take the lease, or renew it if this holder has it already; True if it was taken afresh.

        Raises:
            LeaseHeldError: another holder's lease has not expired (and not `steal`).
        """
        held, at = self._read()
        mine = held is not None and held.get("token") == self.holder.token and not held.get("released_at")
        taken_at = str(held["taken_at"]) if mine and held else iso_s(at)
        condition = None if steal else _TAKE
        if self._write(at, taken_at, keep=held if mine else None, condition=condition, previous=held):
            return not mine
        held, _ = self._read()
        raise LeaseHeldError(held or {})

    def take_over(self, dead: dict[str, Any]) -> bool:
        """Take the lease from `dead` (see `dead_here`) if it still holds it; False if another got it first."""
        held, at = self._read()
        if held is None or held.get("token") != dead.get("token"):
            return False
        values = {":dead": str(dead["token"])}
        return self._write(at, iso_s(at), keep=None, condition="holder = :dead", previous=held, values=values)

    def renew(self) -> bool:
        """Extend the lease by a TTL if this holder still has it; False if it was lost (expired and taken)."""
        held, at = self._read()
        if held is None or held.get("token") != self.holder.token or held.get("released_at"):
            return False  # released: renewing would revive a lease its run gave up
        return self._write(at, str(held["taken_at"]), keep=held, condition="holder = :me")

    def rename(self, run_id: str) -> bool:
        """Name the run once it is planned (the lease is taken before planning, which resets cursors)."""
        self.holder = replace(self.holder, run_id=run_id)
        return self.renew()

    def release(self) -> None:
        """Expire the lease now if this holder still has it (conditional: never frees another's)."""
        held, at = self._read()
        if held is not None and held.get("token") == self.holder.token and not held.get("released_at"):
            doc = {**held, "expires_at": iso_s(at), "released_at": iso_s(at)}
            extra = {"holder": self.holder.token, "expiresAt": 0}
            call_with_retry(
                lambda: self._store.put_if(LEASE_PK, LEASE_SK, doc, extra, "holder = :me", {":me": self.holder.token})
            )

    def _read(self) -> tuple[dict[str, Any] | None, float]:
        return _read_at(self._store, self._clock)

    def _write(
        self,
        at: float,
        taken_at: str,
        *,
        keep: dict[str, Any] | None,
        condition: str | None,
        previous: dict[str, Any] | None = None,
        values: dict[str, Any] | None = None,
    ) -> bool:
        ours = asdict(self.holder)
        if keep:  # a Lambda renewing its CLI's lease keeps the CLI's description of the run
            ours |= {k: keep[k] for k in ("where", "command") if keep.get(k) and not ours[k]}
        expires = at + self.ttl
        doc = ours | {"taken_at": taken_at, "heartbeat_at": iso_s(at), "expires_at": iso_s(expires)}
        extra = {"holder": self.holder.token, "expiresAt": int(expires * 1000)}
        if values is None:
            values = {":me": self.holder.token} | ({":now": int(at * 1000)} if condition == _TAKE else {})
        if condition is None or previous and previous.get("token") != self.holder.token:
            doc["took_from"] = str((previous or {}).get("run_id", ""))  # --steal-lease, or a dead holder
        return bool(call_with_retry(lambda: self._store.put_if(LEASE_PK, LEASE_SK, doc, extra, condition, values)))


def current_lease(store: CheckpointStore, *, clock: Callable[[], float] | None = None) -> dict[str, Any] | None:
    """The live lease's holder and times, or None if there is none (absent, expired or released)."""
    held, at = _read_at(store, clock)
    # in whole milliseconds, as the take's condition compares `expiresAt` with `:now`
    if held is None or held.get("released_at") or round(_epoch(held["expires_at"]) * 1000) < int(at * 1000):
        return None
    return held


def _read_at(store: CheckpointStore, clock: Callable[[], float] | None) -> tuple[dict[str, Any] | None, float]:
    """The lease item and the time of the read, on the backend's clock (its Date header) unless a
    test's `clock` is given; the local clock only for a backend that sends no Date."""
    held, date = call_with_retry(lambda: store.get_with_time(LEASE_PK, LEASE_SK))
    return held, clock() if clock else (date or now()).timestamp()


@contextmanager
def heartbeat(lease: BackfillLease, on_lost: Callable[[], None]) -> Iterator[None]:
    """Renew `lease` every TTL/3 from a daemon thread while the block runs; `on_lost` once if it is lost."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(lease.ttl / 3):
            try:
                if not lease.renew():
                    on_lost()
                    return
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next; the TTL allows two
                continue

    thread = threading.Thread(target=beat, name="backfill-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def iso_s(epoch: float) -> str:
    return iso(datetime.fromtimestamp(epoch, UTC))


def _epoch(text: str) -> float:
    moment = parse_iso(text)
    return moment.timestamp() if moment else 0.0
