"""Running durable jobs: claim, run the kind's handler, then done, retry later, or dead letter.

Whoever calls `run` (a huey task in a worker, the sweeper, a test) gets the same behaviour: the
claim is a compare-and-set with a lease, so a job runs once at a time however many workers
look at it. A failed attempt goes back to pending with exponential back-off and full jitter,
never sooner than the vendor's `Retry-After`; after `max_attempts`, or at once for an answer
that cannot change by retrying (a 4xx refusal, a missing ticket), the job is dead-lettered with
its error until an admin retries or discards it (`escalink jobs`).
"""

from __future__ import annotations

import os
import random
import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import structlog

from escalink.domain.errors import EscalinkError, NotFound, VendorRejected, VendorUnavailable
from escalink.ports.jobs import JobRecord, JobStore, NewJob

log = structlog.get_logger(__name__)

# Answers that retrying cannot change: the job is dead-lettered at once.
PERMANENT = (VendorRejected, NotFound)


def worker_name(prefix: str = "w") -> str:
    """A name unique to this process run: host, pid and a random part (a restarted pid is a new worker)."""
    return f"{prefix}:{socket.gethostname()[:20]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True)
class JobResult:
    """What a handler did: follow-up jobs to add, or `completed` when it completed the job itself
    (in the same transaction as its own state change)."""

    follow_up: Sequence[NewJob] = ()
    completed: bool = False


class JobHandler(Protocol):
    """Runs one kind of job. `run` raises EscalinkError on failure; `settled` is told when the job
    ended (done or dead), so the state the agent sees (an escalation, a delivery) follows it."""

    def run(self, job: JobRecord, worker: str) -> JobResult: ...

    def settled(self, job: JobRecord, state: str, error_code: str | None, error: str | None) -> None: ...


@dataclass(slots=True)
class RunnerOptions:
    lease_seconds: float = 30.0
    max_attempts: int = 8
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 600.0


@dataclass(slots=True)
class RunReport:
    ran: int = 0
    done: int = 0
    retrying: int = 0
    dead: int = 0
    skipped: int = 0
    ids: list[int] = field(default_factory=list)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LeaseHeartbeat:
    """Renews the leases of the jobs this worker is running, every third of a lease.

    This is what lets the lease be short: a job whose worker died (SIGKILL, a lost machine) is taken
    over once its lease runs out, while a slow job whose worker is alive never loses it. One thread
    per runner, started with its first job; one UPDATE per beat for all of the worker's jobs.
    """

    def __init__(self, store: JobStore, worker: str, lease_seconds: float, clock: Callable[[], datetime]) -> None:
        self.store, self.worker, self.lease_seconds, self.clock = store, worker, lease_seconds, clock
        self._active: set[int] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def hold(self, job_id: int) -> None:
        with self._lock:
            self._active.add(job_id)
            if self._thread is None:
                self._thread = threading.Thread(target=self._beat, daemon=True, name=f"lease-{self.worker}")
                self._thread.start()

    def drop(self, job_id: int) -> None:
        with self._lock:
            self._active.discard(job_id)

    def _beat(self) -> None:
        pause = threading.Event()
        while not pause.wait(self.lease_seconds / 3):
            with self._lock:
                held = sorted(self._active)
            if not held:
                continue
            lease_until = self.clock() + timedelta(seconds=self.lease_seconds)
            try:
                self.store.renew_leases(held, worker=self.worker, lease_until=lease_until)
            except Exception as exc:
                # The database is briefly unreachable: the jobs carry on, and the next beat tries
                # again well before their leases (three beats long) run out. The thread must not die.
                log.warning("jobs.lease_renewal_failed", jobs=len(held), error=type(exc).__name__)


class JobRunner:
    """Claims and runs jobs for one worker (this process)."""

    def __init__(
        self,
        store: JobStore,
        *,
        options: RunnerOptions | None = None,
        worker: str | None = None,
        clock: Callable[[], datetime] = _utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.options = options or RunnerOptions()
        self.worker = worker or worker_name()
        self.clock = clock
        self.rng = rng or random.Random()
        self.handlers: dict[str, JobHandler] = {}
        self.heartbeat = LeaseHeartbeat(store, self.worker, self.options.lease_seconds, clock)

    def register(self, kind: str, handler: JobHandler) -> None:
        self.handlers[kind] = handler

    def run(self, job_id: int, report: RunReport | None = None) -> str:
        """Run one job if it can be claimed; returns done, retrying, dead or skipped."""
        report = report if report is not None else RunReport()
        now = self.clock()
        job = self.store.claim(job_id, now=now, lease_until=now + timedelta(seconds=self.options.lease_seconds),
                               worker=self.worker)
        if job is None:
            report.skipped += 1
            return "skipped"
        self.heartbeat.hold(job.id)
        try:
            return self._run_claimed(job, report)
        finally:
            self.heartbeat.drop(job.id)

    def _run_claimed(self, job: JobRecord, report: RunReport) -> str:
        report.ran += 1
        report.ids.append(job.id)
        handler = self.handlers.get(job.kind)
        if handler is None:
            return self._bury(job, None, "unknown_kind", f"No handler for job kind {job.kind!r}.", report)
        try:
            result = handler.run(job, self.worker)
        except PERMANENT as exc:
            return self._bury(job, handler, type(exc).__name__, exc.message, report)
        except EscalinkError as exc:
            retry_after = exc.retry_after if isinstance(exc, VendorUnavailable) else None
            return self._again(job, handler, type(exc).__name__, exc.message, retry_after, report)
        except Exception as exc:
            # A bug or a database hiccup: counted like any failed attempt (so a poison job ends dead
            # instead of looping), and logged loudly with its type; never swallowed silently.
            # Where, not what: a traceback's local values could hold ticket text.
            frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            log.error("job.crashed", job=job.id, kind=job.kind, error=type(exc).__name__,
                      at=f"{Path(frame.filename).name}:{frame.lineno}" if frame else None)
            return self._again(job, handler, type(exc).__name__, "Unexpected error (see the logs).", None, report)
        if not result.completed:
            self.store.complete(job.id, worker=self.worker, follow_up=result.follow_up)
        handler.settled(job, "done", None, None)
        report.done += 1
        log.info("job.done", job=job.id, kind=job.kind, attempt=job.attempts, ticket=job.ticket_id)
        return "done"

    def run_due(self, limit: int = 100) -> RunReport:
        """Run every job that is due now, oldest first (the sweeper's fallback and the tests' drain)."""
        report = RunReport()
        for job_id in self.store.due_jobs(now=self.clock(), limit=limit):
            self.run(job_id, report)
        return report

    def backoff(self, attempts: int, retry_after: float | None) -> float:
        """Seconds to wait: full jitter on an exponential cap, never less than Retry-After."""
        cap = min(self.options.backoff_max_seconds, self.options.backoff_base_seconds * 2 ** max(0, attempts - 1))
        wait = self.rng.uniform(cap / 2, cap)
        return max(wait, retry_after or 0.0)

    def _again(self, job: JobRecord, handler: JobHandler, code: str, message: str, retry_after: float | None,
               report: RunReport) -> str:
        if job.attempts >= self.options.max_attempts:
            return self._bury(job, handler, code, message, report)
        wait = self.backoff(job.attempts, retry_after)
        self.store.retry_later(job.id, worker=self.worker, next_try_at=self.clock() + timedelta(seconds=wait),
                               error_code=code, error=message)
        report.retrying += 1
        log.warning("job.retry_later", job=job.id, kind=job.kind, attempt=job.attempts, error=code,
                    wait_seconds=round(wait, 2))
        return "retrying"

    def _bury(self, job: JobRecord, handler: JobHandler | None, code: str, message: str, report: RunReport) -> str:
        self.store.bury(job.id, worker=self.worker, error_code=code, error=message)
        if handler is not None:
            handler.settled(job, "dead", code, message)
        report.dead += 1
        log.error("job.dead", job=job.id, kind=job.kind, attempts=job.attempts, error=code)
        return "dead"
