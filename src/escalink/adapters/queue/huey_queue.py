"""huey as the transport that wakes workers; the jobs table stays the source of truth.

Three modes (ESCALINK_JOBS_BACKEND):
- `embedded` (default): huey's SQLite storage in a file beside Escalink's, consumed by threads
  inside `escalink serve`;
- `redis`: huey's Redis storage; any number of `escalink worker` processes consume it;
- `immediate`: no queue, a job runs in the thread that dispatched it (tests, the in-process sandbox).

A huey message carries only a job id. Losing one (Redis keeps nothing on disk here, a process
dies between commit and enqueue) loses no work: the sweeper re-dispatches any job left due.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from escalink.ports.jobs import JobStore
from escalink.services.jobs import JobRunner

log = structlog.get_logger(__name__)

TASK_NAME = "escalink.run_job"


class EmbeddedConsumer(Consumer):  # type: ignore[misc]
    """huey's consumer minus its signal handlers: inside `escalink serve`, uvicorn owns the signals."""

    def _set_signal_handlers(self) -> None:
        return None


def sqlite_queue_path(database_url: str, queue_path: str | None) -> str:
    """Where the embedded queue lives: the setting, else beside a SQLite database, else the working dir."""
    if queue_path:
        return queue_path
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        db = Path(database_url.removeprefix("sqlite:///"))
        return str(db.with_name(db.name + "-queue"))
    return "escalink-queue.db"


def make_huey(backend: str, *, database_url: str, queue_path: str | None = None, redis_url: str = "") -> Huey:
    if backend == "immediate":
        return MemoryHuey("escalink", immediate=True, results=False)
    if backend == "redis":
        if not redis_url:
            raise ValueError("ESCALINK_JOBS_BACKEND=redis needs ESCALINK_REDIS_URL")
        return RedisHuey("escalink", url=redis_url, results=False)
    if backend == "embedded":
        return SqliteHuey("escalink", filename=sqlite_queue_path(database_url, queue_path), results=False)
    raise ValueError(f"unknown jobs backend {backend!r}: embedded, redis or immediate")


class HueyQueue:
    """Dispatches job ids through huey and runs them with the runner when they arrive."""

    def __init__(self, huey: Huey, runner: JobRunner, store: JobStore) -> None:
        self.huey = huey
        self.runner = runner
        self.store = store
        self._task = huey.task(name=TASK_NAME)(self._run)
        self._consumer: Consumer | None = None
        self._local = threading.local()

    @property
    def immediate(self) -> bool:
        return bool(self.huey.immediate)

    def dispatch(self, job_ids: Sequence[int], *, at: datetime | None = None) -> None:
        """Wake a worker for each job (now, or at `at` for a retry)."""
        for job_id in dict.fromkeys(job_ids):
            if at is not None and not self.immediate:
                self._task.schedule(args=(job_id,), eta=at.astimezone(UTC).replace(tzinfo=None))
            elif at is None:
                self._task(job_id)
            # immediate mode: a retry waits for the sweeper (nothing runs later by itself)

    def _run(self, job_id: int) -> None:
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        try:
            outcome = self.runner.run(job_id)
            job = self.store.get_job(job_id)
            if job is None:
                return
            if outcome == "retrying" and job.next_try_at is not None:
                self.dispatch([job_id], at=job.next_try_at)
            if outcome in ("done", "dead") and job.ticket_id is not None and depth < 8:
                # Follow-ups and the ticket's next jobs are ready now: do not wait for the sweeper.
                self.dispatch(self.store.due_jobs(now=self.runner.clock(), ticket_id=job.ticket_id, limit=20))
        finally:
            self._local.depth = depth

    # --- consumers --------------------------------------------------------------------------------

    def consumer(self, workers: int, *, embedded: bool) -> Consumer:
        cls: Any = EmbeddedConsumer if embedded else Consumer
        # Short polling: an agent waits for the escalation's jobs (SQLite storage has no blocking read).
        return cls(self.huey, workers=workers, periodic=False, initial_delay=0.05, backoff=1.2, max_delay=0.5,
                   check_worker_health=False, worker_type="thread")

    def start_embedded(self, workers: int) -> None:
        if self.immediate:
            return
        self._consumer = self.consumer(workers, embedded=True)
        self._consumer.start()

    def stop_embedded(self) -> None:
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
            self._consumer = None


def overdue(now: datetime, grace_seconds: float) -> datetime:
    return now - timedelta(seconds=grace_seconds)
