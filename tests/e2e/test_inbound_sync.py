"""Two-way sync end to end over real HTTP: signed Jira/Zendesk webhooks → Escalink → emulated Zendesk.

Jira payloads are the recorded fixtures of tests/adapters/jira_webhooks (Cloud ones for Cloud,
Server ones for Data Center) with the created issue's id and key put in.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from escalink.adapters.db.models import InboundEvent
from escalink.adapters.jira.webhook import jira_signature
from escalink.adapters.zendesk.webhook import zendesk_signature
from escalink.sandbox.replies import SignedWebhook, play_jira_reply, zendesk_merge_webhook
from escalink.sandbox.stack import Stack, start_stack
from escalink.services.inbound import ProcessReport
from escalink.web.app import create_app
from tests.e2e.conftest import draft_json

FIXTURES = Path(__file__).parents[1] / "adapters" / "jira_webhooks" / "fixtures"
TICKET = 104  # seeded "pending", with a complete Bug draft
OTHER_TICKET = 101
ENGINEER = {"accountId": "712020:aa11bb22cc33dd44ee55ff66", "name": "mvale", "displayName": "Morgan Vale"}


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def _user(stack: Stack, person: dict[str, str]) -> dict[str, Any]:
    if stack.settings.jira_flavor == "cloud":
        return {"accountId": person["accountId"], "displayName": person["displayName"], "active": True}
    return {"name": person["name"], "key": person["name"], "displayName": person["displayName"], "active": True}


def _own(stack: Stack) -> dict[str, str]:
    me = stack.emulators.jira_state.service_user
    return {"accountId": me.account_id, "name": me.name, "displayName": me.display_name}


def _issue(payload: dict[str, Any], issue: dict[str, str]) -> None:
    payload["issue"]["id"], payload["issue"]["key"] = issue["id"], issue["key"]
    payload["issue"]["self"] = re.sub(r"/issue/\d+$", f"/issue/{issue['id']}", payload["issue"]["self"])


def _sign(stack: Stack, payload: dict[str, Any], delivery_id: str | None = None) -> SignedWebhook:
    payload["timestamp"] = int(time.time() * 1000) + uuid.uuid4().int % 1000  # distinct bodies
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json",
               "X-Hub-Signature": jira_signature(stack.settings.jira_webhook_secret.get_secret_value().encode(), body)}
    if stack.settings.jira_flavor == "cloud":  # Data Center sends no delivery identifier
        headers["X-Atlassian-Webhook-Identifier"] = delivery_id or str(uuid.uuid4())
    return SignedWebhook("/webhooks/jira", body, headers)


def comment_hook(stack: Stack, issue: dict[str, str], text: Any, author: dict[str, str] = ENGINEER) -> SignedWebhook:
    cloud = stack.settings.jira_flavor == "cloud"
    payload = _fixture("webhook-cloud-comment-created.json" if cloud else "webhook-server-comment-created.json")
    comment = payload["comment"]
    comment_id = str(30000 + uuid.uuid4().int % 60000)
    comment["id"], comment["body"] = comment_id, text
    comment["self"] = re.sub(r"/issue/\d+/comment/\d+", f"/issue/{issue['id']}/comment/{comment_id}", comment["self"])
    comment["author"] = comment["updateAuthor"] = _user(stack, author)
    if cloud:
        _issue(payload, issue)
    return _sign(stack, payload)


def change_hook(stack: Stack, issue: dict[str, str], fixture: str | None = None, *,
                items: list[dict[str, Any]] | None = None, actor: dict[str, str] = ENGINEER) -> SignedWebhook:
    if fixture is None:
        fixture = ("webhook-issue-updated-resolved.json" if stack.settings.jira_flavor == "cloud"
                   else "webhook-server-issue-updated-resolved.json")
    payload = _fixture(fixture)
    _issue(payload, issue)
    payload["user"] = _user(stack, actor)
    if items is not None:
        payload["changelog"]["items"] = items
    return _sign(stack, payload)


def escalate(stack: Stack, api: httpx.Client, ticket: int = TICKET) -> dict[str, str]:
    resp = api.post("/api/escalations", json=draft_json(stack, ticket))
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert stack.emulators.zendesk_state.tickets[ticket].status == "hold"
    return {"id": body["jira_issue_id"], "key": body["jira_key"]}


def deliver(api: httpx.Client, hook: SignedWebhook) -> dict[str, Any]:
    resp = api.post(hook.path, content=hook.body, headers=hook.headers)
    assert resp.status_code == 200, resp.text
    result: dict[str, Any] = resp.json()
    return result


def process(stack: Stack) -> ProcessReport:
    later = datetime.now(UTC) + timedelta(seconds=stack.settings.sync_coalesce_seconds + 1)
    return stack.container.inbound.process_pending(now=later)


def puts(stack: Stack, mark: int, ticket: int = TICKET) -> int:
    return stack.emulators.recorder.count("zendesk", "PUT", f"/api/v2/tickets/{ticket}", since=mark)


def zendesk_calls(stack: Stack, mark: int) -> list[str]:
    return [f"{c.method} {c.path}" for c in stack.emulators.recorder.since(mark, "zendesk")]


def stored_events(stack: Stack) -> list[InboundEvent]:
    with stack.container.store._sessions() as s:
        return list(s.scalars(select(InboundEvent).order_by(InboundEvent.id)))


def test_a_jira_comment_reopens_the_ticket_with_one_internal_note(stack: Stack, api: httpx.Client) -> None:
    issue = escalate(stack, api)
    ticket = stack.emulators.zendesk_state.tickets[TICKET]
    before = len(ticket.comments)
    mark = stack.emulators.recorder.mark()
    answer = "Root cause found: the step sync job skipped Android 14 devices. Fix ships on Friday."
    assert deliver(api, comment_hook(stack, issue, answer))["status"] == "stored"

    # Within the coalescing window nothing is taken yet.
    assert stack.container.inbound.process_pending() == ProcessReport()
    assert zendesk_calls(stack, mark) == []

    report = process(stack)
    assert (report.processed, report.zendesk_updates, report.failed) == (1, 1, 0)
    assert puts(stack, mark) == 1
    assert ticket.status == "open"
    assert len(ticket.comments) == before + 1
    note = ticket.comments[-1]
    assert note.public is False
    assert answer in note.body and "Morgan Vale" in note.body and issue["key"] in note.body
    assert f"/browse/{issue['key']}" in note.body
    # Processed events keep no payload.
    [event] = stored_events(stack)
    assert (event.status, event.payload, event.issue_id) == ("processed", None, issue["id"])
    assert stack.emulators.recorder.spec_violations() == []


def test_a_burst_of_five_jira_changes_is_one_zendesk_update(stack: Stack, api: httpx.Client) -> None:
    issue = escalate(stack, api)
    ticket = stack.emulators.zendesk_state.tickets[TICKET]
    before = len(ticket.comments)
    mark = stack.emulators.recorder.mark()
    texts = [f"Update {i}: still investigating the sync job." for i in range(1, 5)]
    for text in texts[:2]:
        deliver(api, comment_hook(stack, issue, text))
    deliver(api, change_hook(stack, issue))  # resolved: resolution + status
    for text in texts[2:]:
        deliver(api, comment_hook(stack, issue, text))

    report = process(stack)
    assert (report.processed, report.zendesk_updates) == (5, 1)
    assert puts(stack, mark) == 1
    assert len(ticket.comments) == before + 1 and ticket.status == "open"
    note = ticket.comments[-1].body
    assert all(t in note for t in texts) and "Done" in note
    assert note.count(f"Jira update on {issue['key']}") == 1


def test_escalinks_own_comments_and_changes_do_not_come_back(stack: Stack, api: httpx.Client) -> None:
    issue = escalate(stack, api)
    mark = stack.emulators.recorder.mark()
    marker = "(sent from Zendesk ticket #104 via Escalink, ref 0a1b2c3d)"
    deliver(api, comment_hook(stack, issue, f"Member still affected.\n\n{marker}", author=_own(stack)))
    # Posted by another account but carrying the marker, as Data Center renders it (wiki escapes "#").
    deliver(api, comment_hook(stack, issue, "Member still affected.\n\n_" + marker.replace("#", "\\#") + "_"))
    deliver(api, change_hook(stack, issue, actor=_own(stack)))
    if stack.settings.jira_flavor == "cloud":
        adf = {"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "Member still affected."}]},
            {"type": "paragraph", "content": [{"type": "text", "text": marker.upper(), "marks": [{"type": "em"}]}]},
        ]}
        deliver(api, comment_hook(stack, issue, adf))

    report = process(stack)
    assert report.zendesk_updates == 0 and report.processed == 0 and report.ignored >= 3
    assert zendesk_calls(stack, mark) == []
    assert stack.emulators.zendesk_state.tickets[TICKET].status == "hold"


def test_assignee_rank_and_sprint_changes_are_ignored(stack: Stack, api: httpx.Client) -> None:
    issue = escalate(stack, api)
    mark = stack.emulators.recorder.mark()
    assigned = ("webhook-issue-updated-assigned.json" if stack.settings.jira_flavor == "cloud"
                else "webhook-issue-updated-assigned-on-server.json")
    for fixture in (assigned, "webhook-issue-updated-rank.json", "webhook-issue-updated-sprint.json"):
        deliver(api, change_hook(stack, issue, fixture))
    report = process(stack)
    assert (report.ignored, report.zendesk_updates) == (3, 0)
    assert zendesk_calls(stack, mark) == []
    assert {e.error for e in stored_events(stack)} == {"policy_ignores"}


def test_a_moved_issue_keeps_its_link_under_the_new_key(stack: Stack, api: httpx.Client) -> None:
    issue = escalate(stack, api)
    moved = {"id": issue["id"], "key": "PRODOPS-7"}
    items = [
        {"field": "Key", "fieldtype": "jira", "fromString": issue["key"], "toString": moved["key"]},
        {"field": "project", "fieldtype": "jira", "fromString": "Support Escalations", "toString": "ProdOps"},
    ]
    deliver(api, change_hook(stack, moved, "webhook-issue-updated-renamed.json", items=items))
    process(stack)
    [link] = stack.container.store.links_for_ticket(TICKET)
    assert (link.jira_issue_id, link.jira_key) == (issue["id"], "PRODOPS-7")
    ticket = stack.emulators.zendesk_state.tickets[TICKET]
    note = ticket.comments[-1]
    assert note.public is False and f"{issue['key']} is now PRODOPS-7" in note.body
    assert ticket.status == "hold"  # a move alone only notes

    deliver(api, comment_hook(stack, moved, "Moved to ProdOps; picking it up now."))
    process(stack)
    assert "Jira update on PRODOPS-7" in ticket.comments[-1].body and ticket.status == "open"


def test_a_deleted_issue_is_unlinked_and_the_ticket_told(stack: Stack, api: httpx.Client) -> None:
    issue = escalate(stack, api)
    payload = _fixture("webhook-issue-deleted.json")
    _issue(payload, issue)
    payload["user"] = _user(stack, ENGINEER)
    deliver(api, _sign(stack, payload))
    process(stack)
    assert stack.container.store.links_for_ticket(TICKET) == []
    ticket = stack.emulators.zendesk_state.tickets[TICKET]
    assert f"The Jira issue {issue['key']} was deleted" in ticket.comments[-1].body
    assert ticket.status == "open"


def test_forged_or_stale_signatures_are_refused_and_nothing_is_stored(stack: Stack, api: httpx.Client) -> None:
    issue = escalate(stack, api)
    good = comment_hook(stack, issue, "Anything")
    forged = [
        {**good.headers, "X-Hub-Signature": jira_signature(b"not-the-secret", good.body)},
        {k: v for k, v in good.headers.items() if k != "X-Hub-Signature"},
        {**good.headers, "X-Hub-Signature": "sha1=" + "0" * 40},
    ]
    for headers in forged:
        resp = api.post("/webhooks/jira", content=good.body, headers=headers)
        assert resp.status_code == 401 and resp.headers["content-type"] == "application/problem+json"
    tampered = api.post("/webhooks/jira", content=good.body + b" ", headers=good.headers)
    assert tampered.status_code == 401

    secret = stack.settings.zendesk_webhook_secret.get_secret_value()
    stale = zendesk_merge_webhook(source_ticket_id=TICKET, target_ticket_id=OTHER_TICKET, secret=secret,
                                  now=datetime.now(UTC) - timedelta(minutes=6))
    assert api.post(stale.path, content=stale.body, headers=stale.headers).status_code == 401
    fresh = zendesk_merge_webhook(source_ticket_id=TICKET, target_ticket_id=OTHER_TICKET, secret="wrong")
    assert api.post(fresh.path, content=fresh.body, headers=fresh.headers).status_code == 401
    stamp = fresh.headers["X-Zendesk-Webhook-Signature-Timestamp"]
    resigned = {**fresh.headers, "X-Zendesk-Webhook-Signature": zendesk_signature(b"wrong", fresh.body, stamp)}
    assert api.post(fresh.path, content=fresh.body, headers=resigned).status_code == 401

    assert stored_events(stack) == []
    assert stack.container.store.inbound_counts() == {}


def test_the_zendesk_clock_can_be_injected(stack: Stack, api: httpx.Client) -> None:
    secret = stack.settings.zendesk_webhook_secret.get_secret_value()
    past = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    hook = zendesk_merge_webhook(source_ticket_id=TICKET, target_ticket_id=OTHER_TICKET, secret=secret, now=past)
    assert api.post(hook.path, content=hook.body, headers=hook.headers).status_code == 401
    stack.container.inbound.clock = lambda: past + timedelta(minutes=4)
    assert deliver(api, hook)["status"] == "stored"


def test_a_replayed_delivery_is_processed_once(stack: Stack, api: httpx.Client) -> None:
    issue = escalate(stack, api)
    ticket = stack.emulators.zendesk_state.tickets[TICKET]
    before = len(ticket.comments)
    mark = stack.emulators.recorder.mark()
    hook = comment_hook(stack, issue, "Deployed the fix.")
    assert deliver(api, hook)["status"] == "stored"
    assert deliver(api, hook)["status"] == "duplicate"
    process(stack)
    assert deliver(api, hook)["status"] == "duplicate"  # also after processing
    assert process(stack) == ProcessReport()
    assert puts(stack, mark) == 1 and len(ticket.comments) == before + 1
    assert len(stored_events(stack)) == 1


def test_a_solved_ticket_gets_the_note_but_stays_solved(stack: Stack, api: httpx.Client) -> None:
    issue = escalate(stack, api)
    ticket = stack.emulators.zendesk_state.tickets[TICKET]
    ticket.status = "solved"
    deliver(api, comment_hook(stack, issue, "For the record: the fix is live."))
    report = process(stack)
    assert report.zendesk_updates == 1
    assert ticket.status == "solved"
    assert "the fix is live" in ticket.comments[-1].body and ticket.comments[-1].public is False


def test_a_closed_ticket_is_done_with_nothing_to_do(stack: Stack, api: httpx.Client) -> None:
    issue = escalate(stack, api)
    stack.emulators.zendesk_state.tickets[TICKET].status = "closed"
    mark = stack.emulators.recorder.mark()
    deliver(api, comment_hook(stack, issue, "Late answer."))
    report = process(stack)
    assert (report.ignored, report.failed, report.zendesk_updates) == (1, 0, 0)
    assert puts(stack, mark) == 0
    [event] = stored_events(stack)
    assert (event.status, event.error, event.payload) == ("ignored", "ticket_closed", None)
    assert process(stack) == ProcessReport()  # no failure loop


def test_a_ticket_merge_moves_links_and_notes_both_tickets(stack: Stack, api: httpx.Client) -> None:
    issue = escalate(stack, api)
    state = stack.emulators.zendesk_state
    source, target = state.tickets[TICKET], state.tickets[OTHER_TICKET]
    counts = len(source.comments), len(target.comments)
    hook = zendesk_merge_webhook(source_ticket_id=TICKET, target_ticket_id=OTHER_TICKET,
                                 secret=stack.settings.zendesk_webhook_secret.get_secret_value())
    assert deliver(api, hook)["status"] == "stored"
    report = process(stack)
    assert report.zendesk_updates == 2
    assert stack.container.store.links_for_ticket(TICKET) == []
    assert [link.jira_key for link in stack.container.store.links_for_ticket(OTHER_TICKET)] == [issue["key"]]
    assert (len(source.comments), len(target.comments)) == (counts[0] + 1, counts[1] + 1)
    assert f"#{TICKET} was merged into this ticket" in target.comments[-1].body
    assert f"merged into #{OTHER_TICKET}" in source.comments[-1].body
    assert not source.comments[-1].public and not target.comments[-1].public

    deliver(api, comment_hook(stack, issue, "Answer after the merge."))
    process(stack)
    assert "Answer after the merge." in target.comments[-1].body


def test_the_sandbox_helper_plays_a_jira_reply(stack: Stack, api: httpx.Client) -> None:
    escalate(stack, api)
    report = play_jira_reply(stack, TICKET, "Fixed in release 4.2.")
    assert report is not None and report.zendesk_updates == 1
    ticket = stack.emulators.zendesk_state.tickets[TICKET]
    assert ticket.status == "open" and "Fixed in release 4.2." in ticket.comments[-1].body


@pytest.mark.parametrize("flavor", ["cloud"])
def test_the_background_processor_runs_while_the_app_serves(flavor: str, database_url: str) -> None:
    with start_stack(flavor=flavor, database_url=database_url, sync_coalesce_seconds=0, sync_poll_seconds=0.05) as s:
        with httpx.Client(base_url=s.url, timeout=30) as api:
            issue = escalate(s, api)
        # The sandbox server runs without lifespan; a TestClient runs the app's lifespan.
        with TestClient(create_app(s.container)) as client:
            hook = comment_hook(s, issue, "Picked up by the background processor.")
            assert client.post(hook.path, content=hook.body, headers=hook.headers).status_code == 200
            ticket = s.emulators.zendesk_state.tickets[TICKET]
            deadline = time.monotonic() + 10
            while ticket.status != "open" and time.monotonic() < deadline:
                time.sleep(0.05)
        assert ticket.status == "open"
        assert "background processor" in ticket.comments[-1].body



def test_without_a_secret_webhooks_are_refused_and_listed_in_the_api_docs(stack: Stack, api: httpx.Client) -> None:
    hook = comment_hook(stack, {"id": "10001", "key": "ESCA-1"}, "Anything")
    stack.container.settings.jira_webhook_secret = SecretStr("")
    resp = api.post(hook.path, content=hook.body, headers=hook.headers)
    assert resp.status_code == 503 and "ESCALINK_JIRA_WEBHOOK_SECRET" in resp.json()["detail"]
    assert stored_events(stack) == []
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/webhooks/jira", "/webhooks/zendesk"} <= set(paths)
