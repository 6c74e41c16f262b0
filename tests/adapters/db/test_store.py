from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from escalink.adapters.db.models import Link
from escalink.adapters.db.store import SqlStore, make_engine, upgrade_to_head


@pytest.fixture
def store(database_url: str) -> SqlStore:
    upgrade_to_head(database_url)
    return SqlStore(make_engine(database_url))


def _start(store: SqlStore, ticket_id: int = 7) -> str:
    return store.start_escalation(
        ticket_id=ticket_id, agent_email="agent@example.com", issue_type="Bug",
        area="Incorrect Messaging", request_type=None, priority="Major",
    )


def test_migrations_create_the_tables_and_are_repeatable(database_url: str) -> None:
    upgrade_to_head(database_url)
    upgrade_to_head(database_url)  # a second start must be a no-op
    engine = make_engine(database_url)
    names = set(inspect(engine).get_table_names())
    assert {"escalations", "links", "alembic_version"} <= names


def test_escalation_lifecycle_and_link(store: SqlStore) -> None:
    eid = _start(store)
    assert store.get_escalation(eid).state == "creating"  # type: ignore[union-attr]
    store.record_issue_created(eid, issue_id="10042", key="ESCA-42")
    store.finish_escalation(eid, state="done")
    rec = store.get_escalation(eid)
    assert rec is not None and rec.state == "done" and rec.jira_key == "ESCA-42"
    # aware UTC on every engine (SQLite itself keeps no time zone)
    assert rec.created_at.utcoffset() is not None and rec.created_at.utcoffset().total_seconds() == 0
    links = store.links_for_ticket(7)
    assert [(lk.jira_issue_id, lk.jira_key, lk.escalation_id) for lk in links] == [("10042", "ESCA-42", eid)]
    assert store.links_for_ticket(8) == []


def test_same_issue_is_linked_once_per_ticket(store: SqlStore) -> None:
    eid = _start(store)
    store.record_issue_created(eid, issue_id="10042", key="ESCA-42")
    store.record_issue_created(eid, issue_id="10042", key="ESCA-42")
    assert len(store.links_for_ticket(7)) == 1


def test_unique_constraint_is_enforced_by_the_database(store: SqlStore) -> None:
    eid = _start(store)
    store.record_issue_created(eid, issue_id="10042", key="ESCA-42")
    with pytest.raises(IntegrityError), store._session() as s, s.begin():
        s.add(Link(ticket_id=7, jira_issue_id="10042", jira_key="ESCA-42"))


def test_unknown_escalation_is_none(store: SqlStore) -> None:
    assert store.get_escalation("nope") is None
