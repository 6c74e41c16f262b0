from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from escalink.adapters.db.store import SqlStore, make_engine, upgrade_to_head


@pytest.fixture
def store(database_url: str) -> SqlStore:
    upgrade_to_head(database_url)
    return SqlStore(make_engine(database_url))


def test_links_add_remove_move_and_rekey(store: SqlStore) -> None:
    assert store.add_link(1, "100", "ESCA-1") is True
    assert store.add_link(1, "100", "ESCA-1") is False  # the database refuses a duplicate
    store.add_link(1, "101", "ESCA-2")
    store.add_link(2, "101", "ESCA-2")
    assert store.update_issue_key("100", "OPS-7") == 1
    assert [lk.jira_key for lk in store.links_for_issue("100")] == ["OPS-7"]
    moved = store.move_links(1, 2)
    assert [lk.jira_issue_id for lk in moved] == ["100"]
    assert sorted(lk.jira_issue_id for lk in store.links_for_ticket(2)) == ["100", "101"]
    assert store.links_for_ticket(1) == []
    assert store.remove_link(2, "100") is True and store.remove_link(2, "100") is False


def test_inbound_events_are_deduplicated_and_payloads_dropped_once_processed(store: SqlStore) -> None:
    kw = {"source": "jira", "event_type": "comment_created", "issue_id": "100", "ticket_id": None}
    assert store.record_inbound(delivery_id="d1", payload=b"{}", **kw) is True
    assert store.record_inbound(delivery_id="d1", payload=b"{}", **kw) is False
    assert store.record_inbound(delivery_id="d2", payload=b"{}", **kw) is True
    later = datetime.now(UTC) + timedelta(seconds=5)
    pending = store.pending_inbound(received_before=later)
    assert [p.delivery_id for p in pending] == ["d1", "d2"]
    assert store.pending_inbound(received_before=datetime.now(UTC) - timedelta(hours=1)) == []
    store.finish_inbound([pending[0].id], status="processed")
    assert [p.delivery_id for p in store.pending_inbound(received_before=later)] == ["d2"]
    assert store.inbound_counts() == {"processed": 1, "pending": 1}


def test_notifications_deliveries_and_handoffs(store: SqlStore) -> None:
    nid, deliveries = store.create_notification(
        ticket_id=5, agent_email="a@example.com", body="Any update?", attachment_ids=[7],
        target_issue_id=None, targets=[("100", "ESCA-1"), ("101", "ESCA-2")],
    )
    assert [d.state for d in deliveries] == ["pending", "pending"]
    sent = store.set_delivery(deliveries[0].id, state="sent", jira_comment_id="9001", details=[{"id": 7}])
    assert sent.attempts == 1 and sent.jira_comment_id == "9001" and sent.details == ({"id": 7},)
    failed = store.set_delivery(deliveries[1].id, state="failed", error="Jira is down")
    assert failed.error == "Jira is down"
    assert [d.state for d in store.deliveries_for_ticket(5)] == ["sent", "failed"]
    note = store.get_notification(nid)
    assert note is not None and note.body == "Any update?" and note.attachment_ids == (7,)
    h = store.create_handoff(ticket_id=5, requested_by="t1@example.com", target_issue_id="101", body="b",
                             attachment_ids=[])
    assert [x.id for x in store.handoffs()] == [h.id]
    store.close_handoff(h.id, done_by="t2@example.com", notification_id=nid)
    assert store.handoffs() == [] and store.handoffs(status="done")[0].done_by == "t2@example.com"
