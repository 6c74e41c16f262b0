"""The "Notify" panel over real HTTP against the sandbox: the form, sending to all linked issues with a
receipt per issue, a failing issue retried alone, Tier 1 / Tier 2 targeting (identity from the session
only), the PHI refusal with its three ways forward, and copying the ticket's last comment."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

from escalink.sandbox.faults import FaultRule
from escalink.sandbox.jira_state import JiraIssue
from escalink.sandbox.stack import Stack
from tests.ui.conftest import TIER2
from tests.ui.test_links_page import CRASH, HTMX, QUIET, escalate, existing_issue

INLINE = 103  # its only public comment carries an inline image (5004)
PHI_COMMENT = "Member Rosalind Quarry, DOB 1971-03-09, still sees the crash."


def _text(value: Any) -> str:
    """An ADF document (Cloud) flattened to its words."""
    if isinstance(value, dict):
        return " ".join(_text(v) for k, v in value.items() if k in ("content", "text"))
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    return str(value)


def comments_of(issue: JiraIssue) -> list[str]:
    return [_text(c["body"]) for c in issue.comments]


def two_linked(stack: Stack) -> tuple[JiraIssue, JiraIssue]:
    first = escalate(stack)
    second = existing_issue(stack)
    assert stack.container.store.add_link(CRASH, second.id, second.key)
    return first, second


def receipts(html: str) -> dict[str, str]:
    """Issue key -> state label, for each receipt in the answer."""
    return dict(re.findall(r'<strong>([A-Z]+-\d+)</strong>:\s*<span class="[a-z]+">(\w+)</span>', html))


def test_form_lists_attachments_targets_and_the_tier2_rule(stack: Stack,
                                                          browser_client: Callable[..., httpx.Client]) -> None:
    first, second = two_linked(stack)

    r = browser_client().get(f"/app/tickets/{CRASH}/notify", headers=HTMX)

    assert r.status_code == 200, r.text
    assert '<label for="notify-comment">Comment for the linked issues</label>' in r.text
    assert re.search(r'<label for="att-5001">login-crash.png <span class="muted">\(\d+ bytes\)', r.text)
    assert re.search(r'<label for="att-5002">app-crash.log <span class="muted">\(\d+ bytes\)', r.text)
    assert '<label for="target-all">All linked issues (2)</label>' in r.text
    assert ">Copy the last comment</button>" in r.text
    # Tier 1: no single target of their own, only the hand-off to Tier 2.
    assert 'value="one"' not in r.text
    assert "Sending to a single issue needs Tier 2." in r.text
    assert '<label for="target-handoff">One issue only: hand off to Tier 2</label>' in r.text
    assert f'<option value="{second.key}" >{second.key}</option>' in r.text

    tier2 = browser_client(TIER2).get(f"/app/tickets/{CRASH}/notify", headers=HTMX)
    assert '<label for="target-one">One issue only</label>' in tier2.text and "needs Tier 2" not in tier2.text


def test_notify_all_shows_a_sent_receipt_per_issue(stack: Stack,
                                                   browser_client: Callable[..., httpx.Client]) -> None:
    first, second = two_linked(stack)
    client = browser_client()

    r = client.post(f"/app/tickets/{CRASH}/notify", headers=HTMX, data={
        "comment": "Also crashes on build 8.14.1.", "attachment_ids": ["5002"], "target": "all"})

    assert r.status_code == 201, r.text
    assert "Sent to all 2 issues" in r.text
    assert receipts(r.text) == {first.key: "Sent", second.key: "Sent"}
    assert "Files: app-crash.log (attached)" in r.text
    ref = re.search(r"Reference ([0-9a-f]{8})", r.text)
    assert ref
    for issue in (first, second):
        (text,) = [t for t in comments_of(issue) if ref.group(1) in t]
        assert "Also crashes on build 8.14.1." in text
        assert "app-crash.log" in [a["filename"] for a in issue.attachments]
    assert "Best practice is one Jira issue per Zendesk ticket." in r.text
    assert '<textarea id="notify-comment" name="comment"' in r.text and "Also crashes" not in r.text.split(
        "<textarea")[1]  # a fresh form after sending
    links = client.get(f"/app/tickets/{CRASH}/links", headers=HTMX).text
    assert receipts(links) == {first.key: "Sent", second.key: "Sent"}
    assert stack.emulators.recorder.spec_violations() == []


def test_one_failing_issue_shows_failed_and_retry_sends_it_once(
        stack: Stack, browser_client: Callable[..., httpx.Client]) -> None:
    first, second = two_linked(stack)
    stack.emulators.faults.add(FaultRule(kind="500", vendor="jira", method="POST",
                                         path=f"/rest/api/3/issue/{second.id}/comment"))
    client = browser_client()

    r = client.post(f"/app/tickets/{CRASH}/notify", headers=HTMX, data={"comment": "Build 8.14.2 too."})

    assert r.status_code == 201, r.text
    assert "Sent to 1 of 2 issues; 1 failed" in r.text
    assert receipts(r.text) == {first.key: "Sent", second.key: "Failed"}
    assert "Jira is busy or unavailable (HTTP 500)" in r.text
    retry = re.search(r'hx-post="(/app/tickets/101/deliveries/\d+/retry)"', r.text)
    assert retry and r.text.count(">Retry</button>") == 1
    assert not any("Build 8.14.2" in t for t in comments_of(second))

    assert """hx-vals='{"summary": "notify"}'""" in r.text  # the receipts ask their retry for the headline
    stack.emulators.faults.clear()
    again = client.post(retry.group(1), headers=HTMX, data={"summary": "notify"})

    assert again.status_code == 200, again.text
    assert receipts(again.text) == {second.key: "Sent"}
    assert '<h3 id="notify-headline" hx-swap-oob="true">Sent to all 2 issues</h3>' in again.text
    assert sum("Build 8.14.2 too." in t for t in comments_of(second)) == 1
    assert sum("Build 8.14.2 too." in t for t in comments_of(first)) == 1  # never sent twice


def test_tier1_cannot_target_one_issue_but_can_hand_off(stack: Stack,
                                                        browser_client: Callable[..., httpx.Client]) -> None:
    first, second = two_linked(stack)
    client = browser_client()
    before = (len(first.comments), len(second.comments))

    # Naming a Tier 2 agent in the form changes nothing: the caller is whoever the session says.
    refused = client.post(f"/app/tickets/{CRASH}/notify", headers=HTMX, data={
        "comment": "Only for the second one.", "target": "one", "target_issue": second.key,
        "agent_email": TIER2})

    assert refused.status_code == 403
    assert "Your role does not allow this" in refused.text and "Only Tier 2 may send to a single issue" in refused.text
    assert (len(first.comments), len(second.comments)) == before

    handed = client.post(f"/app/tickets/{CRASH}/notify", headers=HTMX, data={
        "comment": "Only for the second one.", "target": "handoff", "target_issue": second.key})

    assert handed.status_code == 202, handed.text
    assert "Handed off to Tier 2: nothing was sent yet" in handed.text and f"({second.key})" in handed.text
    assert (len(first.comments), len(second.comments)) == before
    (h,) = stack.container.store.handoffs(ticket_id=CRASH)
    assert h.requested_by == "dana.whitfield@example.com" and h.target_issue_id == second.id
    ticket = stack.emulators.zendesk_state.tickets[CRASH]
    assert "escalink_tier2_handoff" in ticket.tags and f"hand-off #{h.id}" in ticket.comments[-1].body

    missing = client.post(f"/app/tickets/{CRASH}/notify", headers=HTMX, data={"comment": "x", "target": "handoff"})
    assert missing.status_code == 422 and "Choose the issue." in missing.text


def test_tier2_sees_a_pending_hand_off_and_sends_it_to_its_one_issue(
        stack: Stack, browser_client: Callable[..., httpx.Client]) -> None:
    first, second = two_linked(stack)
    tier1 = browser_client()
    handed = tier1.post(f"/app/tickets/{CRASH}/notify", headers=HTMX, data={
        "comment": "Only the second issue needs this.", "target": "handoff", "target_issue": second.key})
    assert handed.status_code == 202, handed.text
    (h,) = stack.container.store.handoffs(ticket_id=CRASH)
    assert f"Hand-off #{h.id}" not in tier1.get(f"/app/tickets/{CRASH}/notify", headers=HTMX).text

    tier2 = browser_client(TIER2)
    panel = tier2.get(f"/app/tickets/{CRASH}/notify", headers=HTMX)
    assert f"Hand-off #{h.id}: for {second.key} only" in panel.text
    assert "Asked by dana.whitfield@example.com" in panel.text and "Only the second issue needs this." in panel.text
    before = len(first.comments)

    sent = tier2.post(f"/app/tickets/{CRASH}/notify/handoffs/{h.id}", headers=HTMX)

    assert sent.status_code == 201, sent.text
    assert receipts(sent.text) == {second.key: "Sent"} and f"Hand-off #{h.id}:" not in sent.text
    assert sum("Only the second issue needs this." in t for t in comments_of(second)) == 1
    assert len(first.comments) == before
    assert [x.status for x in stack.container.store.handoffs(status=None, ticket_id=CRASH)] == ["done"]
    again = tier2.post(f"/app/tickets/{CRASH}/notify/handoffs/{h.id}", headers=HTMX)
    assert again.status_code == 409 and "it is not sent again" in again.text
    assert sum("Only the second issue needs this." in t for t in comments_of(second)) == 1
    assert tier2.post(f"/app/tickets/{QUIET}/notify/handoffs/{h.id}", headers=HTMX).status_code == 404
    assert tier1.post(f"/app/tickets/{CRASH}/notify/handoffs/{h.id}", headers=HTMX).status_code == 403


def test_tier2_sends_to_one_issue_only(stack: Stack, browser_client: Callable[..., httpx.Client]) -> None:
    first, second = two_linked(stack)

    r = browser_client(TIER2).post(f"/app/tickets/{CRASH}/notify", headers=HTMX, data={
        "comment": "Second issue only, please.", "target": "one", "target_issue": second.key})

    assert r.status_code == 201, r.text
    assert f"Sent to {second.key}" in r.text and receipts(r.text) == {second.key: "Sent"}
    assert any("Second issue only" in t for t in comments_of(second))
    assert not any("Second issue only" in t for t in comments_of(first))
    (n,) = [x for x in stack.container.store.deliveries_for_ticket(CRASH)]
    notification = stack.container.store.get_notification(n.notification_id)
    assert notification is not None and notification.agent_email == TIER2


def test_phi_is_highlighted_and_redact_then_send_keeps_it_out_of_jira(
        stack: Stack, browser_client: Callable[..., httpx.Client]) -> None:
    issue = escalate(stack)
    client = browser_client()
    before = len(issue.comments)

    r = client.post(f"/app/tickets/{CRASH}/notify", headers=HTMX, data={"comment": PHI_COMMENT})

    assert r.status_code == 422, r.text
    assert "Possible PHI: nothing was sent" in r.text
    assert re.search(r'<mark class="phi" data-label="(\w+)"[^>]*>Rosalind Quarry<sup>\1</sup></mark>', r.text)
    assert re.search(r'<mark class="phi"[^>]*>1971-03-09<sup>', r.text)
    assert re.search(r'<button type="submit" id="notify-send" disabled', r.text)
    assert ">Redact</button>" in r.text and 'value="move_to_internal_note">Move to internal note</button>' in r.text
    assert re.search(r'value="override"\s+disabled>Not PHI: send as written</button>', r.text)
    assert '<label for="phi-reason">Not PHI: why?</label>' in r.text
    assert len(issue.comments) == before

    redacted = client.post(f"/app/tickets/{CRASH}/notify/redact", headers=HTMX, data={"comment": PHI_COMMENT})
    assert redacted.status_code == 200
    textarea = re.search(r'<textarea id="notify-comment"[^>]*>(.*?)</textarea>', redacted.text, re.S)
    assert textarea and "Rosalind" not in textarea.group(1) and "1971-03-09" not in textarea.group(1)
    assert re.search(r"\[[A-Z_]+\]", textarea.group(1)) and "still sees the crash." in textarea.group(1)
    assert "Possible PHI" not in redacted.text and "Replaced 2 flagged spans" in redacted.text

    sent = client.post(f"/app/tickets/{CRASH}/notify", headers=HTMX, data={"comment": textarea.group(1)})
    assert sent.status_code == 201, sent.text
    (text,) = comments_of(issue)[before:]
    assert "still sees the crash." in text and "Rosalind" not in text and "1971-03-09" not in text


def test_phi_moved_to_an_internal_note_or_sent_with_a_reason(
        stack: Stack, browser_client: Callable[..., httpx.Client]) -> None:
    issue = escalate(stack)
    client = browser_client()
    ticket = stack.emulators.zendesk_state.tickets[CRASH]

    moved = client.post(f"/app/tickets/{CRASH}/notify", headers=HTMX, data={
        "comment": PHI_COMMENT, "phi_action": "move_to_internal_note"})
    assert moved.status_code == 201, moved.text
    assert "handled as you chose" in moved.text
    assert "Rosalind" not in comments_of(issue)[-1] and "still sees the crash." in comments_of(issue)[-1]
    assert ticket.comments[-1].public is False and "Rosalind Quarry" in ticket.comments[-1].body

    short = client.post(f"/app/tickets/{CRASH}/notify", headers=HTMX, data={
        "comment": PHI_COMMENT, "phi_action": "override", "phi_override_reason": "fake"})
    assert short.status_code == 422
    assert "needs a reason (at least 10 characters)" in short.text
    assert '<mark class="phi"' in short.text and 'value="fake"' in short.text
    sent_before = len(issue.comments)
    assert "Rosalind" not in " ".join(comments_of(issue))

    overridden = client.post(f"/app/tickets/{CRASH}/notify", headers=HTMX, data={
        "comment": "Test account Rosalind Quarry is a fictional QA persona.", "phi_action": "override",
        "phi_override_reason": "Fictional QA persona, not a member."})
    assert overridden.status_code == 201, overridden.text
    assert len(issue.comments) == sent_before + 1 and "Rosalind Quarry" in comments_of(issue)[-1]


def test_copy_the_last_comment_fills_the_form_and_ticks_its_files(
        stack: Stack, browser_client: Callable[..., httpx.Client]) -> None:
    escalate(stack)
    escalate(stack, INLINE)
    client = browser_client()

    r = client.post(f"/app/tickets/{CRASH}/notify/last-comment", headers=HTMX,
                    data={"comment": "draft", "attachment_ids": ["5001"]})
    assert r.status_code == 200, r.text
    assert re.search(r'<textarea id="notify-comment"[^>]*>It says version 8.14.0. My phone is updated.</textarea>',
                     r.text)
    assert re.search(r'value="5001"\s+checked>', r.text) and not re.search(r'value="5002"\s+checked>', r.text)
    assert "Copied the last public comment of this ticket." in r.text

    inline = client.post(f"/app/tickets/{INLINE}/notify/last-comment", headers=HTMX)
    assert "they cannot open my care plan" in inline.text
    assert re.search(r'value="5004"\s+checked>', inline.text) and "inline image" in inline.text
    assert "ticked its 1 file" in inline.text


def test_bad_input_comes_back_in_the_form_and_sends_nothing(
        stack: Stack, browser_client: Callable[..., httpx.Client]) -> None:
    issue = escalate(stack)
    client = browser_client()
    before = len(issue.comments)

    empty = client.post(f"/app/tickets/{CRASH}/notify", headers=HTMX, data={"comment": "   "})
    assert empty.status_code == 422 and "Write a comment, copy the last comment, or choose attachments." in empty.text
    wrong = client.post(f"/app/tickets/{CRASH}/notify", headers=HTMX,
                        data={"comment": "Hello", "attachment_ids": ["abc", "9999"], "target": "some"})
    assert wrong.status_code == 422
    assert "Not an attachment of this ticket." in wrong.text and "Choose all linked issues or one issue." in wrong.text
    assert "Hello</textarea>" in wrong.text
    foreign = client.post(f"/app/tickets/{CRASH}/notify", headers=HTMX,
                          data={"comment": "Hello", "attachment_ids": ["5003"]})
    assert foreign.status_code == 422 and "Attachment 5003 is not on ticket #101." in foreign.text
    assert len(issue.comments) == before


def test_without_links_the_panel_says_where_to_start(browser_client: Callable[..., httpx.Client]) -> None:
    r = browser_client().get(f"/app/tickets/{QUIET}/notify", headers=HTMX)
    assert r.status_code == 200
    assert "No Jira issue is linked to this ticket." in r.text and "<textarea" not in r.text
    assert f'hx-get="/app/tickets/{QUIET}/escalate"' in r.text


def test_without_a_session_nothing_is_sent(stack: Stack, browser_client: Callable[..., httpx.Client]) -> None:
    issue = escalate(stack)
    anonymous = browser_client(signed_in=False)
    assert anonymous.get(f"/app/tickets/{CRASH}/notify", headers=HTMX).status_code == 401
    for path in ("notify", "notify/last-comment", "notify/redact"):
        r = anonymous.post(f"/app/tickets/{CRASH}/{path}", headers=HTMX, data={
            "comment": "Sneaky", "agent_email": TIER2})
        assert r.status_code == 401 and "Sign in through Zendesk" in r.text
    assert not any("Sneaky" in t for t in comments_of(issue))
