"""The audit log table: migration, append-only triggers, range and paging (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from escalink.adapters.db.store import SqlStore, alembic_config, make_engine, upgrade_to_head
from escalink.ports.audit import AuditEntry, label_counts, short_code

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(database_url: str) -> SqlStore:
    upgrade_to_head(database_url)
    return SqlStore(make_engine(database_url))


def _entry(minutes: int, **over: object) -> AuditEntry:
    fields: dict[str, object] = {
        "actor": "ines.agent@example.com", "action": "escalation.created", "ticket_id": 7, "issue_id": "10042",
        "issue_key": "ESCA-42", "phi_findings": {"PERSON": 2}, "content_hash": "ab" * 32, "detail_code": "done",
        "at": T0 + timedelta(minutes=minutes),
    }
    fields.update(over)
    return AuditEntry(**fields)  # type: ignore[arg-type]


def test_migration_creates_the_table_and_downgrade_removes_it(database_url: str) -> None:
    upgrade_to_head(database_url)
    engine = make_engine(database_url)
    try:
        assert "audit_log" in inspect(engine).get_table_names()
        command.downgrade(alembic_config(database_url), "0003")
        assert "audit_log" not in inspect(engine).get_table_names()
        upgrade_to_head(database_url)  # triggers and function are created again without a clash
        assert "audit_log" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_entries_round_trip_without_losing_anything(store: SqlStore) -> None:
    entry = _entry(0, at=datetime(2026, 12, 1, 11, 0, tzinfo=timezone(timedelta(hours=2))))
    store.record(entry)
    [back] = store.entries(T0 - timedelta(hours=1))
    assert back.seq is not None and back.at == T0 and back.at.tzinfo is not None
    assert (back.actor, back.action, back.outcome, back.ticket_id, back.issue_id, back.issue_key) == (
        entry.actor, entry.action, "ok", 7, "10042", "ESCA-42")
    assert back.phi_findings == {"PERSON": 2} and back.content_hash == "ab" * 32 and back.detail_code == "done"


def test_range_is_since_included_until_excluded_and_pages_follow_the_log(store: SqlStore) -> None:
    for minute in range(5):
        store.record(_entry(minute, ticket_id=minute))
    assert [e.ticket_id for e in store.entries(T0 + timedelta(minutes=1), T0 + timedelta(minutes=3))] == [1, 2]
    assert store.entries(T0 + timedelta(minutes=5)) == []
    first = store.entries(T0, limit=2)
    rest = store.entries(T0, limit=2, after_seq=first[-1].seq)
    assert [e.ticket_id for e in first + rest] == [0, 1, 2, 3]


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET actor = 'someone.else@example.com'",
    "UPDATE audit_log SET phi_findings = '{}' WHERE id = :id",
    "DELETE FROM audit_log",
    "DELETE FROM audit_log WHERE id = :id",
    "TRUNCATE audit_log",
])
def test_the_database_refuses_to_change_or_remove_entries(store: SqlStore, statement: str) -> None:
    if statement.startswith("TRUNCATE") and store.engine.dialect.name == "sqlite":
        # SQLite has no TRUNCATE: its "truncate optimisation" is an unqualified DELETE, which triggers disable.
        statement = "DELETE FROM audit_log"
    store.record(_entry(0))
    [before] = store.entries(T0)
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text(statement), {"id": before.seq})
    assert store.entries(T0) == [before]


def test_the_store_offers_no_way_to_change_an_entry(store: SqlStore) -> None:
    names = {n for n in dir(store) if "audit" in n.lower() or n in ("record", "entries")}
    assert names == {"record", "entries"}


def test_an_entry_refuses_free_text_and_naive_times() -> None:
    with pytest.raises(ValueError, match="detail_code"):
        _entry(0, detail_code="Jane Doe called about her lab results")
    with pytest.raises(ValueError, match="outcome"):
        _entry(0, outcome="maybe")
    with pytest.raises(ValueError, match="content_hash"):
        _entry(0, content_hash="not a hash")
    with pytest.raises(ValueError, match="timezone"):
        _entry(0, at=datetime(2026, 12, 1))


def test_helpers_count_labels_and_make_short_codes() -> None:
    class F:
        def __init__(self, label: str) -> None:
            self.label = label

    assert label_counts([F("PERSON"), F("DATE"), F("PERSON")]) == {"DATE": 1, "PERSON": 2}
    assert short_code(["required", "phi", "required", ""]) == "phi,required"
    assert short_code(["", ""]) is None
    assert short_code(["odd code!"]) == "odd_code_"
    assert len(short_code([f"code{i}" for i in range(40)]) or "") <= 64
