"""The sweeper: the periodic beat of every Escalink process that runs jobs.

Each tick it (1) re-dispatches jobs that are overdue (their wake-up was lost: a crash between
commit and enqueue, a queue that forgot, a worker killed mid-job whose lease ran out), (2) queues
one inbound-processing job when stored webhook deliveries are waiting, and (3) every
`reconcile_seconds`, one reconciliation job. Singletons carry a dedupe key, so however many
processes sweep, one copy of each is active at a time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import structlog

from escalink.ports.jobs import Dispatcher, JobStore, NewJob

log = structlog.get_logger(__name__)

INBOUND_PROCESS = "inbound.process"
RECONCILE = "jira.reconcile"


class InboundBacklog(Protocol):
    def has_due_inbound(self, *, received_before: datetime, now: datetime) -> bool: ...


@dataclass(slots=True)
class SweepOptions:
    poll_seconds: float = 1.0
    grace_seconds: float = 5.0  # a dispatched job normally starts well within this
    coalesce_seconds: float = 5.0
    reconcile_seconds: float = 0.0  # 0: off


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Sweeper:
    """One tick = `sweep()`; `start()` runs ticks on a daemon thread until `stop()`."""

    def __init__(self, store: JobStore, inbound: InboundBacklog, dispatcher: Dispatcher, options: SweepOptions,
                 *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.store = store
        self.inbound = inbound
        self.dispatcher = dispatcher
        self.options = options
        self.clock = clock
        # The first reconciliation comes soon after start: webhooks sent while Escalink was down are
        # found within seconds, not after a whole period.
        self._last_reconcile = time.monotonic() - max(0.0, options.reconcile_seconds - 10.0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep(self) -> int:
        """One tick; returns how many job ids it dispatched."""
        now = self.clock()
        grace = 0.0 if self.dispatcher.immediate else self.options.grace_seconds
        ids = self.store.due_jobs(now=now, due_before=now - timedelta(seconds=grace), limit=200)
        singles: list[NewJob] = []
        if self.inbound.has_due_inbound(received_before=now - timedelta(seconds=self.options.coalesce_seconds),
                                        now=now):
            singles.append(NewJob(INBOUND_PROCESS, dedupe_key=INBOUND_PROCESS, ordered=False))
        if self.options.reconcile_seconds > 0 and (
                time.monotonic() - self._last_reconcile >= self.options.reconcile_seconds):
            self._last_reconcile = time.monotonic()
            singles.append(NewJob(RECONCILE, dedupe_key=RECONCILE, ordered=False))
        if singles:
            ids += self.store.add_jobs(singles)
        if ids:
            self.dispatcher.dispatch(list(dict.fromkeys(ids)))
        return len(ids)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="escalink-sweeper", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.options.poll_seconds):
            try:
                self.sweep()
            except Exception as exc:  # noqa: BLE001 - one bad tick (a locked database, Redis away) must not end sweeping
                log.error("sweeper.tick_failed", error=type(exc).__name__)
