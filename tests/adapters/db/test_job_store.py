"""The jobs table on a real database (SQLite, and PostgreSQL when configured): claim, order, leases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from escalink.adapters.db.store import SqlStore, make_engine, upgrade_to_head
from escalink.ports.jobs import NewJob

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
LEASE = NOW + timedelta(minutes=5)


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    upgrade_to_head(database_url)
    s = SqlStore(make_engine(database_url))
    yield s
    s.engine.dispose()


def later(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def test_a_job_is_claimed_once_however_many_workers_ask(store: SqlStore) -> None:
    [job_id] = store.add_jobs([NewJob("k", {"n": 1}, ticket_id=7)])
    won: list[str] = []
    barrier = threading.Barrier(8)

    def ask(worker: str) -> None:
        barrier.wait()
        if store.claim(job_id, now=later(1), lease_until=later(300), worker=worker) is not None:
            won.append(worker)

    threads = [threading.Thread(target=ask, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    job = store.get_job(job_id)
    assert job is not None and job.state == "running" and job.attempts == 1


def test_an_ordered_job_waits_for_the_earlier_jobs_of_its_ticket_only(store: SqlStore) -> None:
    first, second, other, unordered = store.add_jobs([
        NewJob("a", ticket_id=1), NewJob("b", ticket_id=1), NewJob("c", ticket_id=2),
        NewJob("d", ticket_id=1, ordered=False),
    ])
    now = later(1)
    assert store.claim(second, now=now, lease_until=later(300), worker="w") is None
    assert store.claim(other, now=now, lease_until=later(300), worker="w") is not None  # another ticket
    assert store.claim(unordered, now=now, lease_until=later(300), worker="w") is not None
    assert store.claim(first, now=now, lease_until=later(300), worker="w") is not None
    store.bury(first, worker="w", error_code="VendorRejected", error="400")
    # A dead job does not hold its ticket back forever.
    assert store.claim(second, now=now, lease_until=later(300), worker="w") is not None


def test_retry_waits_for_its_time_and_a_lost_lease_is_taken_over(store: SqlStore) -> None:
    [job_id] = store.add_jobs([NewJob("k", ticket_id=3)])
    assert store.claim(job_id, now=later(1), lease_until=later(300), worker="w1") is not None
    store.retry_later(job_id, worker="w1", next_try_at=later(60), error_code="VendorUnavailable", error="503")
    assert store.claim(job_id, now=later(1), lease_until=later(300), worker="w2") is None
    assert store.due_jobs(now=later(1)) == []
    assert store.due_jobs(now=later(61)) == [job_id]
    assert store.claim(job_id, now=later(61), lease_until=later(62), worker="w2") is not None
    # w2 dies mid-job: after its lease, w3 takes over, and w2's late answer changes nothing.
    assert store.claim(job_id, now=later(61), lease_until=later(300), worker="w3") is None
    taken = store.claim(job_id, now=later(63), lease_until=later(300), worker="w3")
    assert taken is not None and taken.attempts == 3
    store.complete(job_id, worker="w2")
    job = store.get_job(job_id)
    assert job is not None and job.state == "running"
    store.complete(job_id, worker="w3")
    assert store.get_job(job_id).state == "done"  # type: ignore[union-attr]


def test_a_singleton_is_active_once_and_can_be_queued_again_when_done(store: SqlStore) -> None:
    one = store.add_jobs([NewJob("inbound.process", dedupe_key="inbound.process", ordered=False)])
    two = store.add_jobs([NewJob("inbound.process", dedupe_key="inbound.process", ordered=False)])
    assert one == two and store.job_counts()["pending"] == 1
    assert store.claim(one[0], now=later(1), lease_until=later(300), worker="w") is not None
    store.complete(one[0], worker="w")
    three = store.add_jobs([NewJob("inbound.process", dedupe_key="inbound.process", ordered=False)])
    assert three != one and store.job_counts() == {"pending": 1, "running": 0, "done": 1, "dead": 0,
                                                   "discarded": 0}


def test_dead_letters_are_retried_or_discarded(store: SqlStore) -> None:
    a, b = store.add_jobs([NewJob("k", {"x": 1}, ticket_id=4), NewJob("k", {"x": 2}, ticket_id=5)])
    for job_id in (a, b):
        store.claim(job_id, now=later(1), lease_until=later(300), worker="w")
        store.bury(job_id, worker="w", error_code="VendorRejected", error="Jira said 400")
    assert [j.id for j in store.jobs(state="dead")] == [a, b]
    assert store.revive([a], now=later(0)) == 1
    revived = store.get_job(a)
    assert revived is not None and revived.state == "pending" and revived.attempts == 0
    assert store.discard([b, a]) == 1  # only dead jobs are discarded
    gone = store.get_job(b)
    assert gone is not None and gone.state == "discarded" and gone.payload == {"x": 2}
    assert store.revive([b], now=later(0)) == 1  # an admin may still change their mind


def test_released_leases_make_running_jobs_due_again(store: SqlStore) -> None:
    [job_id] = store.add_jobs([NewJob("k")])
    store.claim(job_id, now=later(1), lease_until=later(3600), worker="old-process")
    assert store.due_jobs(now=later(2)) == []
    assert store.release_leases() == 1
    assert store.due_jobs(now=later(2)) == [job_id]


def test_released_leases_can_wait_for_writes_still_on_the_wire(store: SqlStore) -> None:
    [job_id] = store.add_jobs([NewJob("k")])
    store.claim(job_id, now=later(1), lease_until=later(3600), worker="killed-process")
    assert store.release_leases(not_before=later(20)) == 1
    assert store.due_jobs(now=later(2)) == [] and store.due_jobs(now=later(21)) == [job_id]


def test_renewed_leases_keep_a_live_workers_jobs(store: SqlStore) -> None:
    [a, b] = store.add_jobs([NewJob("k"), NewJob("k")])
    store.claim(a, now=later(1), lease_until=later(30), worker="live")
    store.claim(b, now=later(1), lease_until=later(30), worker="other")
    assert store.renew_leases([a, b], worker="live", lease_until=later(90)) == 1  # only its own
    assert store.due_jobs(now=later(60)) == [b]


def test_overdue_means_due_for_a_while_and_not_taken(store: SqlStore) -> None:
    [job_id] = store.add_jobs([NewJob("k")])
    assert store.due_jobs(now=later(1), due_before=later(-5)) == []
    assert store.due_jobs(now=later(10), due_before=later(5)) == [job_id]


def test_cursors_and_noted_comments(store: SqlStore) -> None:
    assert store.get_cursor("jira") is None
    store.set_cursor("jira", NOW)
    store.set_cursor("jira", LEASE)
    assert store.get_cursor("jira") == LEASE
    key = ("10001", "900", "created")
    store.mark_noted(7, [key])
    store.mark_noted(7, [key])  # the constraint keeps it once
    assert store.noted_comments(7, [key, ("10001", "901", "created")]) == {key}
    assert store.noted_comments(8, [key]) == set()
