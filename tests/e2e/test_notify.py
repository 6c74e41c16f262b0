"""Notify linked issues, receipts, retries, Tier 2 hand-offs and link management over real HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from escalink.sandbox.jira_state import BUG, JiraIssue
from escalink.sandbox.stack import Stack
from escalink.services.roles import RoleMap
from tests.e2e.conftest import counted_calls

CRASH = 101  # comments carry login-crash.png (5001) and app-crash.log (5002)
INLINE = 103  # the member's comment has an inline image (5004)
DANA = "dana.whitfield@example.com"  # Tier 1 in these tests
LENA = "lena.kowalczyk@example.com"  # Tier 2 through her group
TIER2_GROUP = 360001
PROBLEM = "application/problem+json"


def _text(value: Any) -> str:
    """Flatten an ADF document (Cloud) or return wiki text (DC) with its escapes removed."""
    if isinstance(value, dict):
        return " ".join(_text(v) for k, v in value.items() if k in ("content", "text"))
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    return str(value).replace("\\", "")


def _issue(stack: Stack, summary: str) -> JiraIssue:
    jira = stack.emulators.jira_state
    return jira.create_issue(BUG, {"summary": summary, "priority": {"name": "Major"}}, jira.service_user, None)


def _linked(stack: Stack, api: httpx.Client, ticket: int, n: int) -> list[JiraIssue]:
    issues = [_issue(stack, f"Existing issue {i}") for i in range(n)]
    for issue in issues:
        assert api.post(f"/api/tickets/{ticket}/links", json={"issue": issue.key}).status_code == 201
    return issues


def _comments_with(issue: JiraIssue, ref: str) -> list[str]:
    return [t for t in (_text(c["body"]) for c in issue.comments) if ref in t]


def _calls(stack: Stack, mark: int) -> list[tuple[str, str]]:
    return [(c.method, c.path) for c in counted_calls(stack, mark)]


def test_one_failing_issue_is_retried_alone_and_delivered_once(stack: Stack, api: httpx.Client) -> None:
    issues = _linked(stack, api, CRASH, 3)
    broken = issues[1]
    stack.emulators.jira_state.fail_comments_for.add(broken.key)
    mark = stack.emulators.recorder.mark()
    resp = api.post(f"/api/tickets/{CRASH}/notify", json={
        "agent_email": DANA, "comment": "Also crashes on build 8.14.1.", "attachment_ids": [5001, 5002]})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["state"] == "partial" and len(body["ref"]) == 8
    assert [d["state"] for d in body["deliveries"]] == ["sent", "failed", "sent"]
    assert body["warnings"][0]["code"] == "several_issues"

    # Budget: one comments read, each file downloaded once, then per issue 2 uploads + 1 comment.
    calls = _calls(stack, mark)
    assert sum(m == "GET" and p.endswith("/comments") for m, p in calls) == 1
    assert sum(p.startswith("/attachments/token/") for _, p in calls) == 2
    assert sum(p.endswith("/attachments") for _, p in calls) == 6
    assert sum(p.endswith("/comment") for _, p in calls) == 3
    assert len(calls) == 12, calls
    assert stack.emulators.recorder.spec_violations() == []

    links = {lk["key"]: lk for lk in api.get(f"/api/tickets/{CRASH}/links").json()["links"]}
    failed = links[broken.key]["deliveries"][0]
    assert failed["state"] == "failed" and "unavailable" in failed["error"] and failed["ref"] == body["ref"]
    assert [a["outcome"] for a in failed["attachments"]] == ["attached", "attached"]
    assert links[issues[0].key]["deliveries"][0]["state"] == "sent"

    stack.emulators.jira_state.fail_comments_for.clear()
    mark = stack.emulators.recorder.mark()
    retried = api.post(f"/api/tickets/{CRASH}/deliveries/{failed['delivery_id']}/retry")
    assert retried.status_code == 200, retried.text
    assert retried.json()["state"] == "sent" and retried.json()["attempts"] == 2
    assert [a["outcome"] for a in retried.json()["attachments"]] == ["attached", "attached"]
    # The issue's comments are read first (an earlier answer may have been lost after Jira took the comment),
    # then the comment alone is posted: the files were attached already.
    api_path = f"/rest/api/{'3' if stack.settings.jira_flavor == 'cloud' else '2'}/issue/{broken.id}/comment"
    assert _calls(stack, mark) == [("GET", api_path), ("POST", api_path)]
    for issue in issues:
        copies = _comments_with(issue, body["ref"])
        assert len(copies) == 1 and len(issue.attachments) == 2
        assert copies[0].rstrip().endswith(f"(sent from Zendesk ticket #{CRASH} via Escalink, ref {body['ref']})")
        assert "Also crashes on build 8.14.1." in copies[0] and "Files kept in Zendesk" not in copies[0]

    again = api.post(f"/api/tickets/{CRASH}/deliveries/{failed['delivery_id']}/retry")
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    assert again.json()["errors"][0]["code"] == "already_sent"


@pytest.mark.parametrize("flavor", ["cloud"])
def test_a_file_over_the_limit_goes_as_its_zendesk_address(stack: Stack, api: httpx.Client) -> None:
    (issue,) = _linked(stack, api, CRASH, 1)
    files = stack.emulators.zendesk_state.attachments
    small, big = sorted((files[5001], files[5002]), key=lambda a: len(a.data))
    stack.container.notify.max_attachment_bytes = len(big.data) - 1
    mark = stack.emulators.recorder.mark()
    resp = api.post(f"/api/tickets/{CRASH}/notify", json={
        "agent_email": DANA, "comment": "Files attached.", "attachment_ids": [5001, 5002]})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert [a["outcome"] for a in body["deliveries"][0]["attachments"] if a["id"] == big.id] == ["linked"]
    assert any(w["code"] == "too_large" and big.file_name in w["message"] for w in body["warnings"])
    downloads = [p for _, p in _calls(stack, mark) if p.startswith("/attachments/token/")]
    assert downloads == [f"/attachments/token/{small.token}/"]  # the big one is never fetched
    assert [a["filename"] for a in issue.attachments] == [small.file_name]
    (text,) = _comments_with(issue, body["ref"])
    assert f"{big.file_name}" in text and f"/attachments/token/{big.token}/" in text

    # Jira's own limit (HTTP 413) refuses an upload: that file goes as its address as well.
    stack.container.notify.max_attachment_bytes = 10 * 1024 * 1024
    stack.emulators.jira_state.attachment_max_bytes = len(small.data) - 1
    refused = api.post(f"/api/tickets/{CRASH}/notify", json={
        "agent_email": DANA, "comment": "Once more.", "attachment_ids": [small.id]}).json()
    assert refused["state"] == "sent" and [w["code"] for w in refused["warnings"]] == ["upload_failed"]
    (text,) = _comments_with(issue, refused["ref"])
    assert f"/attachments/token/{small.token}/" in text and len(issue.attachments) == 1


def test_copy_last_comment_sends_its_inline_image(stack: Stack, api: httpx.Client) -> None:
    (issue,) = _linked(stack, api, INLINE, 1)
    resp = api.post(f"/api/tickets/{INLINE}/notify", json={"agent_email": DANA, "copy_last_comment": True})
    assert resp.status_code == 201, resp.text
    assert [a["filename"] for a in issue.attachments] == ["inline-error.png"]
    (text,) = _comments_with(issue, resp.json()["ref"])
    assert "they cannot open my care plan" in text


@pytest.mark.parametrize("flavor", ["cloud"])
def test_tier1_targets_one_issue_only_through_a_tier2_hand_off(stack: Stack, api: httpx.Client) -> None:
    stack.container.roles = RoleMap({f"group:{TIER2_GROUP}": "tier2"})
    first, second = _linked(stack, api, CRASH, 2)
    ask = {"agent_email": DANA, "comment": "Please look at the second log line.", "target_issue": second.key,
           "attachment_ids": [5002]}
    refused = api.post(f"/api/tickets/{CRASH}/notify", json=ask)
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    assert "Tier 2" in refused.json()["detail"] and refused.json()["errors"][0]["field"] == "target_issue"

    handed = api.post(f"/api/tickets/{CRASH}/notify", json={**ask, "handoff_to_tier2": True})
    assert handed.status_code == 202, handed.text
    assert handed.json()["state"] == "handed_off" and handed.json()["deliveries"] == []
    ticket = stack.emulators.zendesk_state.tickets[CRASH]
    assert "escalink_tier2_handoff" in ticket.tags
    assert ticket.comments[-1].public is False and second.key in ticket.comments[-1].body
    pending = api.get("/api/handoffs", params={"status": "pending"}).json()["handoffs"]
    assert [(h["ticket_id"], h["target_issue_id"], h["requested_by"]) for h in pending] == [
        (CRASH, second.id, DANA)]
    assert first.comments == [] and second.comments == []

    hid = pending[0]["handoff_id"]
    assert api.post(f"/api/handoffs/{hid}/send", json={"agent_email": DANA}).status_code == 403
    sent = api.post(f"/api/handoffs/{hid}/send", json={"agent_email": LENA, "group_ids": [TIER2_GROUP]})
    assert sent.status_code == 200, sent.text
    assert sent.json()["state"] == "sent" and sent.json()["handoff"]["status"] == "done"
    assert first.comments == [] and len(_comments_with(second, sent.json()["ref"])) == 1
    assert [a["filename"] for a in second.attachments] == ["app-crash.log"]
    assert api.get("/api/handoffs").json()["handoffs"] == []
    assert api.post(f"/api/handoffs/{hid}/send", json={"agent_email": LENA, "group_ids": [TIER2_GROUP]}
                    ).status_code == 409


@pytest.mark.parametrize("flavor", ["cloud"])
def test_phi_in_the_comment_or_a_file_name_sends_nothing(stack: Stack, api: httpx.Client) -> None:
    (issue,) = _linked(stack, api, CRASH, 1)
    z = stack.emulators.zendesk_state
    named = z.add_attachment("Rosalind Quarry DOB 1971-03-09.png", "image/png", b"png")
    z.add_comment(z.tickets[CRASH], 901, "Screenshot from the member.", public=False, attachment_ids=[named.id])
    notes_before = len(z.tickets[CRASH].comments)
    mark = stack.emulators.recorder.mark()
    for extra in ({"comment": "Member Rosalind Quarry, DOB 1971-03-09, still crashes."},
                  {"comment": "Screenshot attached.", "attachment_ids": [named.id]}):
        resp = api.post(f"/api/tickets/{CRASH}/notify", json={"agent_email": DANA, **extra})
        assert resp.status_code == 422 and resp.headers["content-type"] == PROBLEM
        problem = resp.json()
        assert problem["phi_findings"] and problem["redacted"]
        assert "1971-03-09" not in str(problem["redacted"])
    assert [m for m, _ in _calls(stack, mark) if m != "GET"] == []  # nothing written anywhere
    assert issue.comments == [] and issue.attachments == []

    moved = api.post(f"/api/tickets/{CRASH}/notify", json={
        "agent_email": DANA, "comment": "Screenshot attached.", "attachment_ids": [named.id],
        "phi_action": "move_to_internal_note"})
    assert moved.status_code == 201, moved.text
    assert [a["filename"] for a in issue.attachments] == [f"attachment-{named.id}.png"]
    assert "1971-03-09" not in str(issue.comments) and "Quarry" not in str(issue.comments)
    note = z.tickets[CRASH].comments[notes_before]
    assert note.public is False and named.file_name in note.body


@pytest.mark.parametrize("flavor", ["datacenter"])
def test_link_an_existing_issue_then_unlink_it(stack: Stack, api: httpx.Client) -> None:
    one, two = _issue(stack, "Login loop on Android"), _issue(stack, "Second issue")
    created = api.post(f"/api/tickets/{CRASH}/links", json={"issue": one.key.lower()})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["jira_issue_id"], body["key"], body["summary"], body["status"], body["priority"]) == (
        one.id, one.key, "Login loop on Android", "Open", "Major")
    assert body["url"].endswith(f"/browse/{one.key}") and body["warnings"] == []
    assert api.post(f"/api/tickets/{CRASH}/links", json={"issue": one.id}).json()["created"] is False
    warned = api.post(f"/api/tickets/{CRASH}/links", json={"issue": two.key}).json()
    assert warned["warnings"][0]["code"] == "several_issues"

    unknown = api.post(f"/api/tickets/{CRASH}/links", json={"issue": "ESCA-999"})
    assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM
    assert unknown.json()["errors"][0]["field"] == "issue"

    links = api.get(f"/api/tickets/{CRASH}/links").json()
    assert [lk["key"] for lk in links["links"]] == [one.key, two.key] and links["warnings"]
    assert api.delete(f"/api/tickets/{CRASH}/links/{one.key}").status_code == 204
    assert api.delete(f"/api/tickets/{CRASH}/links/{two.id}").status_code == 204
    assert api.get(f"/api/tickets/{CRASH}/links").json()["links"] == []
    gone = api.delete(f"/api/tickets/{CRASH}/links/{one.key}")
    assert gone.status_code == 404 and gone.json()["errors"][0]["field"] == "issue"
    nothing = api.post(f"/api/tickets/{CRASH}/notify", json={"agent_email": DANA, "comment": "Any news?"})
    assert nothing.status_code == 422 and nothing.json()["errors"][0]["code"] == "no_linked_issues"
