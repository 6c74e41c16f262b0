"""Reconciliation over the sandbox: a Jira comment or status change whose webhook never came reaches
the ticket once, and the late webhook (or the next reconciliation) does not note it again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from escalink.adapters.db.models import InboundEvent
from escalink.adapters.jira.adf import text_to_adf
from escalink.ports.jobs import NewJob
from escalink.sandbox.jira_people import transition
from escalink.sandbox.jira_state import now_jira
from escalink.sandbox.replies import ENGINEER, jira_change_webhook, jira_comment_webhook
from escalink.sandbox.stack import Stack
from escalink.services.sweeper import RECONCILE
from tests.e2e.conftest import draft_json

TICKET = 104


def _jira_comment(stack: Stack, issue_id: str, text: str) -> str:
    """An engineer comments in Jira itself (no webhook is sent)."""
    state = stack.emulators.jira_state
    with state.lock:
        engineer = state.user_by(name="jpike") or state.add_user("jpike", "jordan.pike@example.com", "Jordan Pike")
        issue = state.issues[issue_id]
        comment = {"id": state.next_id(), "author": engineer, "created": now_jira(),
                   "body": text_to_adf(text) if stack.settings.jira_flavor == "cloud" else text}
        issue.comments.append(comment)
        state.touch(issue)
    return str(comment["id"])


def _reconcile_and_process(stack: Stack) -> None:
    c = stack.container
    c.queue.dispatch(c.store.add_jobs([NewJob(RECONCILE, dedupe_key=RECONCILE, ordered=False)]))
    c.inbound.process_pending(now=datetime.now(UTC) + timedelta(seconds=60))


def _reconciled_changes(stack: Stack, issue_id: str) -> dict[str, tuple[str, str | None]]:
    """The stored change events reconciliation synthesized for the issue: delivery id -> (status, error)."""
    with Session(stack.container.store.engine) as s:
        rows = s.execute(select(InboundEvent.delivery_id, InboundEvent.status, InboundEvent.error).where(
            InboundEvent.issue_id == issue_id, InboundEvent.delivery_id.startswith("reconcile:change:"))).all()
    return {d: (status, error) for d, status, error in rows}


def _notes_with(stack: Stack, text: str) -> list[str]:
    ticket = stack.emulators.zendesk_state.tickets[TICKET]
    return [c.body for c in ticket.comments if text in c.body and not c.public]


def test_a_missed_webhook_is_found_by_reconciliation_and_noted_once(stack: Stack, api: httpx.Client) -> None:
    created = api.post("/api/escalations", json=draft_json(stack, TICKET))
    assert created.status_code == 201, created.text
    issue_id = created.json()["jira_issue_id"]
    comment_id = _jira_comment(stack, issue_id, "Root cause found: a stale cache on the reminder service.")

    _reconcile_and_process(stack)
    assert len(_notes_with(stack, "Root cause found")) == 1
    ticket = stack.emulators.zendesk_state.tickets[TICKET]
    assert ticket.status == "open"  # the answer reopened the ticket, as a webhook would have

    # The webhook arrives after all (late, or replayed), and reconciliation runs again: still one note.
    hook = jira_comment_webhook(
        issue_id=issue_id, issue_key=created.json()["jira_key"], comment_id=comment_id,
        text="Root cause found: a stale cache on the reminder service.",
        secret=stack.settings.jira_webhook_secret.get_secret_value(), flavor=stack.settings.jira_flavor,
        jira_url=stack.emulators.jira_url,
    )
    assert hook.post(stack.url).status_code == 200
    _reconcile_and_process(stack)
    assert len(_notes_with(stack, "Root cause found")) == 1
    assert stack.emulators.recorder.spec_violations() == []


def test_a_missed_status_change_is_found_by_reconciliation_and_noted_once(stack: Stack, api: httpx.Client) -> None:
    created = api.post("/api/escalations", json=draft_json(stack, TICKET))
    assert created.status_code == 201, created.text
    issue_id, key = created.json()["jira_issue_id"], created.json()["jira_key"]
    c = stack.container
    c.inbound.process_pending(now=datetime.now(UTC) + timedelta(seconds=60))  # whatever escalating left pending
    ticket = stack.emulators.zendesk_state.tickets[TICKET]
    before = ticket.status
    assert before != "open"  # escalated tickets wait for the engineers
    state = stack.emulators.jira_state
    with state.lock:
        engineer = state.user_by(name=ENGINEER.name) or state.add_user(
            ENGINEER.name, "jordan.pike@example.com", ENGINEER.display_name)
        # An engineer resolves the issue in Jira itself: the webhook never comes.
        history = transition(state, state.issues[issue_id], "Resolved", by=engineer)
    assert history is not None
    statuses_noted = "changed status:"

    _reconcile_and_process(stack)
    [note] = _notes_with(stack, statuses_noted)
    assert '"Open" → "Resolved"' in note and f"{issue_id}/{history['id']}/changed" in note
    assert ticket.status == "open"  # reopened, as the sync policy says for a status change
    # Escalink's own changes (the link it added while escalating) are in the history too:
    # reconciliation brought them through the same path, and they were dropped as echoes.
    synthesized = _reconciled_changes(stack, issue_id)
    assert synthesized.pop(f"reconcile:change:{issue_id}:{history['id']}") == ("processed", None)
    assert synthesized and set(synthesized.values()) == {("ignored", "own_change")}

    # The real webhook for the same change arrives late, and reconciliation runs again: still one note.
    hook = jira_change_webhook(
        issue_id=issue_id, issue_key=key, changes=[("status", "Open", "Resolved")], changelog_id=history["id"],
        secret=stack.settings.jira_webhook_secret.get_secret_value(), flavor=stack.settings.jira_flavor,
        jira_url=stack.emulators.jira_url,
    )
    assert hook.post(stack.url).status_code == 200
    _reconcile_and_process(stack)
    assert len(_notes_with(stack, statuses_noted)) == 1
    assert stack.emulators.recorder.spec_violations() == []
