"""Inbound sync writes the audit log: who sent each event, what happened to tickets and links; no text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.unit.test_inbound_service import OWN, SECRET, FakeJira, FakeZendesk

from escalink.adapters.db.store import SqlStore, make_engine, upgrade_to_head
from escalink.policy import load_policy
from escalink.ports.audit import AuditEntry
from escalink.sandbox.replies import ENGINEER, jira_comment_webhook, zendesk_merge_webhook
from escalink.services.inbound import InboundSync

ANSWER = "Ximena Quarterfield's refill is fixed"  # a fictional name: must never reach the audit log


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[InboundSync, SqlStore]]:
    url = f"sqlite:///{tmp_path}/audit.db"
    upgrade_to_head(url)
    store = SqlStore(make_engine(url))
    store.add_link(104, "10001", "ESCA-1")
    sync = InboundSync(store, FakeZendesk({104: "hold", 105: "open"}), FakeJira(), load_policy().sync,
                       coalesce_seconds=5, audit=store)
    yield sync, store
    store.engine.dispose()


def _process(sync: InboundSync) -> None:
    sync.process_pending(now=datetime.now(UTC) + timedelta(seconds=6))


def _log(store: SqlStore) -> list[AuditEntry]:
    return store.entries(datetime.now(UTC) - timedelta(hours=1))


def test_a_jira_answer_is_audited_as_event_and_ticket_update(setup: tuple[InboundSync, SqlStore]) -> None:
    sync, store = setup
    hook = jira_comment_webhook(issue_id="10001", issue_key="ESCA-1", text=ANSWER, secret=SECRET)
    sync.accept_jira(hook.body, hook.headers)
    echo = jira_comment_webhook(issue_id="10001", issue_key="ESCA-1", text="ours", secret=SECRET, author=OWN)
    sync.accept_jira(echo.body, echo.headers)
    _process(sync)
    entries = _log(store)
    by_action: dict[str, list[AuditEntry]] = {}
    for e in entries:
        by_action.setdefault(e.action, []).append(e)
    [noted] = by_action.get("ticket.reopened", []) + by_action.get("ticket.noted", [])
    assert (noted.actor, noted.ticket_id, noted.issue_id, noted.issue_key) == ("escalink", 104, "10001", "ESCA-1")
    assert noted.content_hash is not None and len(noted.content_hash) == 64
    [processed] = by_action["inbound.processed"]
    assert processed.actor == f"jira:{ENGINEER.account_id}" and processed.issue_id == "10001"
    [ignored] = by_action["inbound.ignored"]
    assert ignored.actor == f"jira:{OWN.account_id}" and ignored.detail_code
    dumped = json.dumps([e.as_json() for e in entries]).lower()
    assert "quarterfield" not in dumped and "refill" not in dumped


def test_a_merge_is_audited_per_moved_link(setup: tuple[InboundSync, SqlStore]) -> None:
    sync, store = setup
    hook = zendesk_merge_webhook(source_ticket_id=104, target_ticket_id=105, secret=SECRET)
    sync.accept_zendesk(hook.body, hook.headers)
    _process(sync)
    [moved] = [e for e in _log(store) if e.action == "merge.links_moved"]
    assert (moved.actor, moved.ticket_id, moved.issue_id, moved.issue_key) == (
        "zendesk:webhook", 105, "10001", "ESCA-1")
    assert moved.detail_code == "from_ticket=104"
    assert {e.action for e in _log(store)} >= {"inbound.processed", "ticket.noted"}
