"""Inbound deliveries stored many per transaction: replays, columns, failures, on every engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_mock_engine
from sqlalchemy.exc import IntegrityError, OperationalError

from escalink.adapters.db.inbound_batch import SqlInboundBatch
from escalink.adapters.db.store import SqlStore, make_engine, upgrade_to_head
from escalink.ports.inbound_batch import NewInbound


@pytest.fixture
def store(database_url: str) -> SqlStore:
    upgrade_to_head(database_url)
    return SqlStore(make_engine(database_url))


def jira(delivery_id: str, issue_id: str | None = "10001") -> NewInbound:
    return NewInbound("jira", delivery_id, "comment_created", issue_id, None, b'{"webhookEvent": "comment_created"}')


def ids(store: SqlStore) -> list[str]:
    later = datetime.now(UTC) + timedelta(seconds=5)
    return [r.delivery_id for r in store.pending_inbound(received_before=later)]


@pytest.mark.parametrize("shared_commit", [True, False], ids=["one-insert", "row-by-row"])
def test_replays_are_told_apart_across_and_within_batches(store: SqlStore, shared_commit: bool) -> None:
    batch = SqlInboundBatch(store.engine, shared_commit=shared_commit)
    assert batch.record_inbound_batch([jira("a"), jira("b"), jira("a")]) == [True, True, False]
    assert batch.record_inbound_batch([jira("b"), jira("c")]) == [False, True]
    # The same id from the other vendor is another delivery; the per-request store agrees on replays.
    zendesk = NewInbound("zendesk", "a", "trigger", None, 104, b'{"ticket_id": 104}')
    assert batch.record_inbound_batch([zendesk]) == [True]
    assert store.record_inbound(source="jira", delivery_id="c", event_type="x", issue_id=None, ticket_id=None,
                                payload=b"{}") is False
    assert batch.record_inbound_batch([]) == []
    assert ids(store) == ["a", "b", "c", "a"]
    batch.release()


def test_every_column_is_filled_as_the_per_request_store_does(store: SqlStore) -> None:
    batch = SqlInboundBatch(store.engine)
    before = datetime.now(UTC) - timedelta(seconds=1)
    merged = NewInbound("zendesk", "z", "zen:event-type:ticket.merged", None, 104, b"{}")
    batch.record_inbound_batch([jira("a"), merged])
    records = store.pending_inbound(received_before=datetime.now(UTC) + timedelta(seconds=5))
    rows = [(r.source, r.delivery_id, r.event_type, r.issue_id, r.ticket_id, r.status, r.attempts) for r in records]
    assert rows == [
        ("jira", "a", "comment_created", "10001", None, "pending", 0),
        ("zendesk", "z", "zen:event-type:ticket.merged", None, 104, "pending", 0),
    ]
    assert records[0].payload == b'{"webhookEvent": "comment_created"}'
    assert all(r.received_at.tzinfo is not None and r.received_at >= before for r in records)
    assert records[0].next_try_at is None
    batch.release()


def test_a_failing_batch_stores_none_of_it_and_the_next_batch_works(store: SqlStore) -> None:
    batch = SqlInboundBatch(store.engine)
    broken = NewInbound("jira", "bad", None, None, None, b"{}")  # type: ignore[arg-type]  # NOT NULL column
    with pytest.raises(IntegrityError):
        batch.record_inbound_batch([jira("a"), broken])
    assert ids(store) == []
    assert batch.record_inbound_batch([jira("a")]) == [True]
    assert ids(store) == ["a"]
    batch.release()


def test_a_database_without_the_table_fails_until_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/late.db"
    batch = SqlInboundBatch(make_engine(url))
    with pytest.raises(OperationalError):
        batch.record_inbound_batch([jira("a")])
    upgrade_to_head(url)
    assert batch.record_inbound_batch([jira("a")]) == [True]
    batch.release()
    batch.release()  # releasing twice is harmless


def test_one_insert_is_refused_where_the_engine_has_none() -> None:
    engine = create_mock_engine("mysql://", executor=lambda *_: None)  # a dialect without ON CONFLICT
    with pytest.raises(ValueError, match="mysql"):
        SqlInboundBatch(engine, shared_commit=True)  # type: ignore[arg-type]
