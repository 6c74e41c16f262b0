"""The webhook group commit over a real database: shared transactions, failures kept apart, idle exit."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from escalink.adapters.db.inbound_batch import SqlInboundBatch
from escalink.adapters.db.inbound_writer import GroupCommitWriter
from escalink.adapters.db.store import SqlStore, make_engine, upgrade_to_head
from escalink.ports.inbound_batch import NewInbound


class HeldBatch(SqlInboundBatch):
    """The real batch store, whose first batch waits until `go` is set (so later deliveries queue up)."""

    def __init__(self, store: SqlStore) -> None:
        super().__init__(store.engine)
        self.go = threading.Event()
        self.entered = threading.Event()
        self.sizes: list[int] = []

    def record_inbound_batch(self, deliveries: Sequence[NewInbound]) -> list[bool]:
        self.entered.set()
        assert self.go.wait(10)
        self.sizes.append(len(deliveries))
        return super().record_inbound_batch(deliveries)


@pytest.fixture
def store(database_url: str) -> SqlStore:
    upgrade_to_head(database_url)
    return SqlStore(make_engine(database_url))


def jira(delivery_id: str, event_type: str = "comment_created") -> NewInbound:
    return NewInbound("jira", delivery_id, event_type, "10001", None, b"{}")


def stored_ids(store: SqlStore) -> list[str]:
    later = datetime.now(UTC) + timedelta(seconds=5)
    return [r.delivery_id for r in store.pending_inbound(received_before=later)]


async def first_then_rest(writer: GroupCommitWriter, held: HeldBatch, first: NewInbound,
                          rest: list[NewInbound]) -> list[bool | BaseException]:
    """`first` alone in a held batch; `rest` queued meanwhile, so they share the next transaction."""
    head = asyncio.ensure_future(writer.record(first))
    while not held.entered.is_set():
        await asyncio.sleep(0.005)
    tail = [asyncio.ensure_future(writer.record(d)) for d in rest]
    await asyncio.sleep(0.05)  # every record() above has queued its delivery
    held.go.set()
    return list(await asyncio.gather(head, *tail, return_exceptions=True))


def test_deliveries_waiting_during_a_commit_share_the_next_one(store: SqlStore) -> None:
    held = HeldBatch(store)
    writer = GroupCommitWriter(held)
    rest = [jira(f"d{i}") for i in range(20)] + [jira("d3")]  # d3 twice: a replay inside the batch
    outcomes = asyncio.run(first_then_rest(writer, held, jira("first"), rest))
    assert outcomes == [True] * 21 + [False]
    assert held.sizes == [1, 21] and writer.batches == 2
    assert stored_ids(store) == ["first"] + [f"d{i}" for i in range(20)]


def test_a_delivery_the_database_refuses_fails_alone(store: SqlStore) -> None:
    held = HeldBatch(store)
    writer = GroupCommitWriter(held)
    broken = jira("bad", event_type=None)  # type: ignore[arg-type]  # violates NOT NULL
    outcomes = asyncio.run(first_then_rest(writer, held, jira("first"), [jira("a"), broken, jira("b")]))
    assert outcomes[:2] == [True, True] and outcomes[3] is True
    assert isinstance(outcomes[2], IntegrityError)
    assert stored_ids(store) == ["first", "a", "b"]


def test_a_store_that_miscounts_fails_its_requests_and_the_writer_goes_on(store: SqlStore) -> None:
    class Miscounting(SqlInboundBatch):
        def record_inbound_batch(self, deliveries: Sequence[NewInbound]) -> list[bool]:
            return super().record_inbound_batch(deliveries)[:-1] if deliveries[0].delivery_id == "x" else (
                super().record_inbound_batch(deliveries))

    writer = GroupCommitWriter(Miscounting(store.engine))

    async def run() -> tuple[BaseException | bool, bool]:
        first = await asyncio.gather(writer.record(jira("x")), return_exceptions=True)
        return first[0], await writer.record(jira("y"))

    failed, later = asyncio.run(run())
    assert isinstance(failed, RuntimeError) and later is True


def test_the_thread_ends_when_idle_and_comes_back_with_work(store: SqlStore) -> None:
    writer = GroupCommitWriter(SqlInboundBatch(store.engine), idle_seconds=0.05)
    assert asyncio.run(writer.record(jira("a"))) is True
    deadline = time.monotonic() + 5
    while writer.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not writer.running
    assert asyncio.run(writer.record(jira("a"))) is False
    assert asyncio.run(writer.record(jira("b"))) is True
    assert stored_ids(store) == ["a", "b"]


def test_requests_on_several_event_loops_are_each_answered_on_their_own(store: SqlStore) -> None:
    writer = GroupCommitWriter(SqlInboundBatch(store.engine))
    results: dict[int, list[bool]] = {}

    def client(n: int) -> None:
        async def send() -> list[bool]:
            return list(await asyncio.gather(*(writer.record(jira(f"{n}-{i}")) for i in range(10))))
        results[n] = asyncio.run(send())

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert results == {n: [True] * 10 for n in range(4)}
    assert len(stored_ids(store)) == 40
