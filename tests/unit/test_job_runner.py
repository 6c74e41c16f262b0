"""The job runner and the sweeper over a real SQLite store: outcomes, back-off, dead letters, singletons."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from escalink.adapters.db.store import SqlStore, make_engine, upgrade_to_head
from escalink.adapters.queue.huey_queue import HueyQueue, make_huey
from escalink.domain.errors import NotFound, VendorRejected, VendorUnavailable
from escalink.ports.jobs import JobRecord, NewJob
from escalink.services.jobs import JobResult, JobRunner, RunnerOptions
from escalink.services.sweeper import INBOUND_PROCESS, RECONCILE, Sweeper, SweepOptions


@dataclass
class Scripted:
    """A handler that plays a list of outcomes: None succeeds, an exception is raised."""

    outcomes: list[Exception | None]
    settled_as: list[tuple[str, str | None]] = field(default_factory=list)
    runs: int = 0

    def run(self, job: JobRecord, worker: str) -> JobResult:
        self.runs += 1
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        return JobResult()

    def settled(self, job: JobRecord, state: str, error_code: str | None, error: str | None) -> None:
        self.settled_as.append((state, error_code))


@pytest.fixture
def store(tmp_path: Any) -> Iterator[SqlStore]:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    upgrade_to_head(url)
    s = SqlStore(make_engine(url))
    yield s
    s.engine.dispose()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(seconds=1)  # jobs added "now" are due

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def runner(store: SqlStore, clock: Callable[[], datetime], handler: Scripted, **opts: Any) -> JobRunner:
    r = JobRunner(store, options=RunnerOptions(**opts), clock=clock, rng=random.Random(7), worker="w1")
    r.register("k", handler)
    return r


@pytest.mark.parametrize(("error", "state", "code"), [
    (VendorRejected("Jira said 400"), "dead", "VendorRejected"),  # retrying cannot change it
    (NotFound("no such ticket"), "dead", "NotFound"),
    (VendorUnavailable("503"), "retrying", "VendorUnavailable"),
    (KeyError("bug"), "retrying", "KeyError"),  # counted like any failure, so a poison job ends dead
])
def test_an_attempt_ends_done_retrying_or_dead(store: SqlStore, error: Exception, state: str, code: str) -> None:
    clock = Clock()
    handler = Scripted([error])
    [job_id] = store.add_jobs([NewJob("k", ticket_id=1)])
    assert runner(store, clock, handler).run(job_id) == state
    job = store.get_job(job_id)
    assert job is not None and job.error_code == code and job.attempts == 1
    assert handler.settled_as == ([("dead", code)] if state == "dead" else [])


def test_backoff_grows_with_jitter_and_never_undercuts_retry_after(store: SqlStore) -> None:
    r = runner(store, Clock(), Scripted([]), backoff_base_seconds=2, backoff_max_seconds=60)
    for attempt, (low, high) in {1: (1, 2), 2: (2, 4), 3: (4, 8), 7: (30, 60), 12: (30, 60)}.items():
        waits = [r.backoff(attempt, None) for _ in range(50)]
        assert all(low <= w <= high for w in waits) and len(set(waits)) > 1
    assert r.backoff(1, 45.0) == 45.0


def test_a_job_is_retried_after_its_wait_and_dead_lettered_after_max_attempts(store: SqlStore) -> None:
    clock = Clock()
    handler = Scripted([VendorUnavailable("busy", retry_after=30.0)] * 3)
    r = runner(store, clock, handler, max_attempts=3)
    [job_id] = store.add_jobs([NewJob("k", ticket_id=1)])
    assert r.run(job_id) == "retrying"
    job = store.get_job(job_id)
    assert job is not None and job.next_try_at is not None and job.next_try_at >= clock.now + timedelta(seconds=30)
    assert r.run(job_id) == "skipped"  # not before its time
    clock.advance(31)
    assert r.run_due().retrying == 1
    clock.advance(3600)
    assert r.run_due().dead == 1
    assert handler.runs == 3 and handler.settled_as == [("dead", "VendorUnavailable")]
    assert [j.id for j in store.jobs(state="dead")] == [job_id]


def test_an_unknown_kind_is_dead_lettered(store: SqlStore) -> None:
    [job_id] = store.add_jobs([NewJob("nobody-handles-this")])
    assert runner(store, Clock(), Scripted([])).run(job_id) == "dead"
    assert store.get_job(job_id).error_code == "unknown_kind"  # type: ignore[union-attr]


@dataclass
class Backlog:
    waiting: bool = False

    def has_due_inbound(self, *, received_before: datetime, now: datetime) -> bool:
        return self.waiting


def test_sweeper_runs_overdue_jobs_and_queues_one_of_each_singleton(store: SqlStore) -> None:
    handler = Scripted([])
    r = JobRunner(store, options=RunnerOptions())
    for kind in ("k", INBOUND_PROCESS, RECONCILE):
        r.register(kind, handler)
    queue = HueyQueue(make_huey("immediate", database_url=""), r, store)
    backlog = Backlog(waiting=True)
    sweeper = Sweeper(store, backlog, queue, SweepOptions(reconcile_seconds=0.001))
    store.add_jobs([NewJob("k", ticket_id=5), NewJob("k", ticket_id=6)])
    sweeper._last_reconcile = 0.0  # as if the period had passed
    assert sweeper.sweep() == 4
    assert handler.runs == 4 and store.job_counts()["done"] == 4
    backlog.waiting = False
    sweeper._last_reconcile = float("inf")
    assert sweeper.sweep() == 0


def test_a_live_worker_keeps_its_lease_and_a_dead_ones_job_is_taken_over_after_one_lease(store: SqlStore) -> None:
    """Real time here: the heartbeat is a thread renewing leases every third of a 0.3 s lease."""
    import threading
    import time

    started, release = threading.Event(), threading.Event()

    class Slow(Scripted):
        def run(self, job: JobRecord, worker: str) -> JobResult:
            started.set()
            release.wait(5)
            return super().run(job, worker)

    live = JobRunner(store, options=RunnerOptions(lease_seconds=0.3), worker="live")
    live.register("k", Slow([]))
    other = JobRunner(store, options=RunnerOptions(lease_seconds=0.3), worker="other")
    other.register("k", Scripted([]))
    [slow_id, orphan_id] = store.add_jobs([NewJob("k"), NewJob("k")])
    outcome: list[str] = []
    t = threading.Thread(target=lambda: outcome.append(live.run(slow_id)))
    t.start()
    assert started.wait(5)
    # A worker killed mid-job: it claimed, then nothing renews its lease.
    now = datetime.now(UTC)
    assert store.claim(orphan_id, now=now, lease_until=now + timedelta(seconds=0.3), worker="killed") is not None

    time.sleep(1.0)  # over three leases: the slow job's lease was renewed meanwhile, the orphan's ran out
    assert other.run(slow_id) == "skipped"
    assert other.run(orphan_id) == "done"
    release.set()
    t.join(5)
    assert outcome == ["done"]
    assert [store.get_job(i).state for i in (slow_id, orphan_id)] == ["done", "done"]  # type: ignore[union-attr]
