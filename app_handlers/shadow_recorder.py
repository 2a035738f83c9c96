"""Recording shadow comparisons where the flip gate can read them, off the read's path.

`routing.Router` calls `record` once per shadow read (an in-memory count under a lock: no I/O).
Writes happen on one background thread (`controlplane.shadow_evidence.ShadowStore`): a flush
starts when a mismatch is recorded, or when `flush_seconds` passed since the last one, so an API
instance writes at most one counter item per kind of read per interval, each distinct key once
per phase (at most `max_keys` per kind of read: beyond that the count is enough), and each
mismatching key once per flush. A failed flush never fails or slows a read: it is logged and
counted (`ShadowRecordFailed`) and its batch is kept for the next flush. What an instance holds
when it is reclaimed before flushing is lost: that only undercounts comparisons (the gate then
waits for more); a mismatch is flushed as soon as it is seen, and its log line and metric are
emitted by the router either way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from app_handlers.telemetry import SHADOW_RECORD_FAILED, Telemetry
from controlplane.shadow_evidence import COMPARED, MISMATCH, OUTCOMES, Batch, Mismatch, ShadowStore, digest
from cutover.clock import utc_now

MAX_PENDING_MISMATCHES = 500  # distinct mismatching keys held between flushes (the count stays exact)


class ShadowRecorder:
    """The API's `routing.ShadowEvidence`: aggregates in memory, flushes in the background."""

    def __init__(
        self,
        store: ShadowStore,
        phase: Callable[[], str | None],
        telemetry: Telemetry,
        reads: Sequence[str] = (),
        flush_seconds: float = 5.0,
        max_keys: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store, self._phase, self._t, self._reads = store, phase, telemetry, tuple(reads)
        self._flush_seconds, self._max_keys, self._clock = flush_seconds, max_keys, clock
        self._lock = threading.Lock()
        self._pending = Batch()
        self._seen: dict[tuple[str, str], set[str]] = {}  # (phase, op) -> digests recorded (or pending)
        self._last_flush = clock()
        self._flushing: Future[None] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shadow-record")

    def record(self, op: str, keys: Mapping[str, Any], outcome: str, differing: Sequence[str] = ()) -> None:
        """Count one shadow read of `op` on `keys` (an outcome of `OUTCOMES`); no I/O here."""
        phase = self._phase()
        if phase is None or outcome not in OUTCOMES:
            return
        with self._lock:
            for name in {*self._reads, op}:  # every declared kind of read appears, compared or not
                self._pending.counts.setdefault((phase, name), dict.fromkeys(OUTCOMES, 0))
            self._pending.counts[(phase, op)][outcome] += 1
            key = digest(keys) if outcome in COMPARED else None
            seen = self._seen.setdefault((phase, op), set())
            if key is not None and key not in seen and len(seen) < self._max_keys:
                seen.add(key)
                self._pending.keys.add((phase, op, key))
            if outcome == MISMATCH:
                self._mismatch(phase, op, keys, differing)
            due = outcome == MISMATCH or self._clock() - self._last_flush >= self._flush_seconds
        if due:
            self._start_flush()

    def _mismatch(self, phase: str, op: str, keys: Mapping[str, Any], differing: Sequence[str]) -> None:
        at = utc_now()
        m = Mismatch(op, dict(keys), sorted(differing), at, at, 1, phase)
        where = (op, digest(keys))
        if where in self._pending.mismatches:
            self._pending.mismatches[where].merge(m)
        elif len(self._pending.mismatches) < MAX_PENDING_MISMATCHES:
            self._pending.mismatches[where] = m

    def _start_flush(self) -> None:
        with self._lock:
            if self._flushing is not None and not self._flushing.done():
                return  # the running flush, or the next record after it, takes what is pending
            self._last_flush = self._clock()
            try:
                self._flushing = self._pool.submit(self.flush)
            except RuntimeError:  # shut down (interpreter exit): nothing more is recorded
                self._flushing = None

    def flush(self) -> None:
        """Write everything pending now, again while a mismatch arrived meanwhile (no later read may
        come to start another flush); on failure log, count and keep it for the next flush."""
        while self._flush_once():
            with self._lock:
                if not self._pending.mismatches:
                    return

    def _flush_once(self) -> bool:
        with self._lock:
            batch, self._pending = self._pending, Batch()
        if not batch:
            return False
        try:
            self._store.write(batch)
            return True
        except Exception as exc:  # noqa: BLE001 - recording never fails a read
            with self._lock:
                batch.merge(self._pending)
                self._pending = batch
            self._t.event(
                SHADOW_RECORD_FAILED,
                f"shadow evidence could not be recorded in {self._store.table} (kept for the next flush): {exc!r}. "
                "Check the function's dynamodb:UpdateItem permission on its API table (shadow# keys)",
                level="error",
                error=repr(exc),
            )
            return False

    def settle(self, timeout: float = 2.0) -> None:
        """Wait (at most `timeout`) for a flush already running, never raising: Lambda freezes the
        process once its handler returns, so a mismatch's write started by an invocation must end
        inside it, or it waits for the next invocation (never, if the instance is reclaimed).
        Costs nothing when no flush runs, which is every request but a mismatch or one per
        interval."""
        with self._lock:
            running = self._flushing
        if running is None:
            return
        try:
            running.result(timeout=timeout)
        except Exception:  # noqa: BLE001 - a failed flush logs and counts itself; a slow one is kept
            return

    def drain(self, timeout: float = 10.0) -> None:
        """Flush what is pending and wait for it (the demo, tests, a local server stopping)."""
        with self._lock:
            running = self._flushing
        if running is not None:
            running.result(timeout=timeout)
        self._pool.submit(self.flush).result(timeout=timeout)
