"""The "Linked issues" panel over real HTTP against the sandbox: live issue cards, details read from Jira,
delivery receipts with Retry, the one-issue-per-ticket warning, linking by key, and Jira errors per card."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from escalink.sandbox.faults import FaultRule
from escalink.sandbox.jira_state import BUG, JiraIssue
from escalink.sandbox.stack import Stack
from tests.e2e.conftest import draft_json

CRASH = 101  # its sample draft escalates cleanly; two attachments
QUIET = 104  # nothing linked in these tests
HTMX = {"HX-Request": "true"}
ONE_PER_TICKET = "For best practices, limit 1 JIRA ticket for 1 Zendesk ticket."


def escalate(stack: Stack, ticket: int = CRASH) -> JiraIssue:
    """Escalate a seeded ticket through the JSON API, as the Create issue tab ends up doing."""
    with httpx.Client(base_url=stack.url, timeout=30) as api:
        resp = api.post("/api/escalations", json=draft_json(stack, ticket))
    assert resp.status_code == 201, resp.text
    issue = stack.emulators.jira_state.issue(resp.json()["jira_issue_id"])
    assert issue is not None
    return issue


def existing_issue(stack: Stack, summary: str = "Existing crash report") -> JiraIssue:
    jira = stack.emulators.jira_state
    return jira.create_issue(BUG, {"summary": summary, "priority": {"name": "Major"}}, jira.service_user, None)


def card(html: str, key: str) -> str:
    """The <article> of one issue in the panel."""
    found = re.search(rf'<article class="card" aria-labelledby="issue-{key}">(.*?)</article>', html, re.S)
    assert found, f"no card for {key}"
    return found.group(1)


def test_panel_after_an_escalation_shows_the_issue_live(stack: Stack,
                                                         browser_client: Callable[..., httpx.Client]) -> None:
    issue = escalate(stack)
    client = browser_client()

    r = client.get(f"/app/tickets/{CRASH}/links", headers=HTMX)

    assert r.status_code == 200, r.text
    assert "<html" not in r.text  # only the panel for an HTMX request
    c = card(r.text, issue.key)
    url = f"{stack.emulators.jira_url}/browse/{issue.key}"
    assert f'<a href="{url}" target="_blank" rel="noopener">{issue.key}</a>' in c
    assert "iOS app closes immediately after login on 8.14.0" in c
    assert "<dt>Status</dt><dd>Open</dd>" in c and "<dt>Priority</dt><dd>Critical</dd>" in c
    assert re.search(r'<dt>Updated</dt><dd><time datetime="\d{4}-\d\d-\d\dT[\d:]+Z"[^>]*>just now</time>', c)
    assert f'aria-label="Details of {issue.key}"' in c
    assert f'hx-get="/app/tickets/{CRASH}/links/{issue.key}/details"' in c
    assert ONE_PER_TICKET not in r.text and "No Jira issue is linked" not in r.text

    # Opened without HTMX (a reload), the same panel comes inside the ticket shell.
    whole = client.get(f"/app/tickets/{CRASH}/links")
    assert whole.status_code == 200 and "<html" in whole.text and 'role="tablist"' in whole.text
    assert f'aria-labelledby="issue-{issue.key}"' in whole.text
    assert stack.emulators.recorder.spec_violations() == []


def test_details_show_description_latest_comments_and_a_jira_link(
        stack: Stack, browser_client: Callable[..., httpx.Client]) -> None:
    issue = escalate(stack)
    for n in range(1, 5):
        stack.container.tracker.add_comment(issue.id, f"Engineering note {n}: looking at build 8.14.{n}.")
    client = browser_client()
    mark = stack.emulators.recorder.mark()

    r = client.get(f"/app/tickets/{CRASH}/links/{issue.key}/details", headers=HTMX)

    assert r.status_code == 200, r.text
    assert "The iOS app terminates right after a successful login." in r.text
    notes = re.findall(r"Engineering note (\d)", r.text)
    assert notes == ["4", "3", "2"]  # the latest three, newest first
    assert "1 older comment in Jira." in r.text
    assert f'href="{stack.emulators.jira_url}/browse/{issue.key}" target="_blank"' in r.text
    assert "Hide details" in r.text
    calls = [(c.method, c.path) for c in stack.emulators.recorder.since(mark)]
    assert calls == [("GET", f"/rest/api/3/issue/{issue.id}"), ("GET", f"/rest/api/3/issue/{issue.id}/comment")]
    assert stack.emulators.recorder.spec_violations() == []

    # Only issues linked to this ticket are read: another issue's details are not Escalink's to show here.
    stranger = existing_issue(stack)
    refused = client.get(f"/app/tickets/{CRASH}/links/{stranger.key}/details", headers=HTMX)
    assert refused.status_code == 404 and f"{stranger.key} is not linked to ticket #{CRASH}" in refused.text


def test_two_links_warn_with_the_policy_text_and_unlinking_removes_it(
        stack: Stack, browser_client: Callable[..., httpx.Client]) -> None:
    first = escalate(stack)
    second = existing_issue(stack)
    client = browser_client()

    r = client.post(f"/app/tickets/{CRASH}/links", data={"issue": second.key}, headers=HTMX)

    assert r.status_code == 200, r.text
    assert f"{second.key} is linked to this ticket." in r.text
    assert ONE_PER_TICKET in r.text and "2 issues are linked." in r.text
    assert "Existing crash report" in card(r.text, second.key) and card(r.text, first.key)
    assert [lk.jira_key for lk in stack.container.store.links_for_ticket(CRASH)] == [first.key, second.key]

    again = client.post(f"/app/tickets/{CRASH}/links", data={"issue": second.key.lower()}, headers=HTMX)
    assert again.status_code == 200 and f"{second.key} was linked already." in again.text

    unknown = client.post(f"/app/tickets/{CRASH}/links", data={"issue": "ESCA-999"}, headers=HTMX)
    assert unknown.status_code == 404 and "Jira has no issue ESCA-999" in unknown.text
    assert 'aria-invalid="true"' in unknown.text and 'value="ESCA-999"' in unknown.text
    bad = client.post(f"/app/tickets/{CRASH}/links", data={"issue": "not a key"}, headers=HTMX)
    assert bad.status_code == 422 and "Enter a Jira issue key such as ESCA-12." in bad.text

    gone = client.post(f"/app/tickets/{CRASH}/links/{second.key}/unlink", headers=HTMX)
    assert gone.status_code == 200 and f"{second.key} is no longer linked to this ticket." in gone.text
    assert ONE_PER_TICKET not in gone.text and f'aria-labelledby="issue-{second.key}"' not in gone.text
    assert stack.emulators.jira_state.issue(second.key) is not None  # Jira is not changed


def test_a_jira_error_shows_on_its_card_only(stack: Stack, browser_client: Callable[..., httpx.Client]) -> None:
    good = escalate(stack)
    broken = existing_issue(stack, "Issue Jira will refuse to show")
    stack.container.store.add_link(CRASH, broken.id, broken.key)
    stack.emulators.faults.add(FaultRule(kind="400", vendor="jira", method="GET",
                                         path=f"/rest/api/3/issue/{broken.id}"))
    client = browser_client()

    r = client.get(f"/app/tickets/{CRASH}/links", headers=HTMX)

    assert r.status_code == 200, r.text
    assert "Jira could not show this issue:" in card(r.text, broken.key)
    assert "Issue Jira will refuse to show" not in r.text
    assert "iOS app closes immediately after login" in card(r.text, good.key)
    assert "Jira could not show" not in card(r.text, good.key)

    details = client.get(f"/app/tickets/{CRASH}/links/{broken.key}/details", headers=HTMX)
    assert details.status_code == 502 and f"Jira could not show {broken.key}:" in details.text
    assert f"Open {broken.key} in Jira" in details.text


def test_receipts_per_issue_and_retry_of_a_failed_one(stack: Stack,
                                                      browser_client: Callable[..., httpx.Client]) -> None:
    first = escalate(stack)
    second = existing_issue(stack)
    stack.container.store.add_link(CRASH, second.id, second.key)
    client = browser_client()
    comment_path = f"/rest/api/3/issue/{second.id}/comment"
    stack.emulators.faults.add(FaultRule(kind="500", vendor="jira", method="POST", path=comment_path))
    sent = client.post(f"/app/tickets/{CRASH}/notify", data={"comment": "Also crashes on 8.14.1."}, headers=HTMX)
    assert sent.status_code == 201, sent.text
    stack.emulators.faults.clear()

    r = client.get(f"/app/tickets/{CRASH}/links", headers=HTMX)
    ok, failed = card(r.text, first.key), card(r.text, second.key)
    assert "Notifications sent from this ticket" in ok
    assert '<span class="ok">Sent</span>' in ok and "Retry" not in ok
    assert '<span class="bad">Failed</span>' in failed
    assert "Jira is busy or unavailable (HTTP 500)" in failed
    retry = re.search(r'hx-post="(/app/tickets/101/deliveries/(\d+)/retry)"', failed)
    assert retry and f'aria-label="Retry sending to {second.key}' in failed

    again = client.post(retry.group(1), headers=HTMX)

    assert again.status_code == 200, again.text
    assert again.text.lstrip().startswith(f'<li id="delivery-{retry.group(2)}"')
    assert '<span class="ok">Sent</span>' in again.text and "2 attempts" in again.text and "Retry" not in again.text
    ref = re.search(r"ref ([0-9a-f]{8})", again.text)
    assert ref
    texts = [str(c["body"]) for c in second.comments]
    assert sum(ref.group(1) in t for t in texts) == 1  # delivered once

    twice = client.post(retry.group(1), headers=HTMX)
    assert twice.status_code == 409 and "was already sent; it is not sent again" in twice.text
    assert len(second.comments) == len(texts)


def test_empty_state_points_to_create_issue(browser_client: Callable[..., httpx.Client]) -> None:
    r = browser_client().get(f"/app/tickets/{QUIET}/links", headers=HTMX)
    assert r.status_code == 200
    assert "No Jira issue is linked to this ticket." in r.text
    assert f'hx-get="/app/tickets/{QUIET}/escalate"' in r.text and ">Create issue</a>" in r.text
    assert '<label for="link-issue">Link an existing Jira issue</label>' in r.text


def test_without_a_session_nothing_is_shown_or_done(stack: Stack, browser_client: Callable[..., httpx.Client]) -> None:
    issue = escalate(stack)
    anonymous = browser_client(signed_in=False)
    for method, path in [("GET", f"/app/tickets/{CRASH}/links"),
                         ("GET", f"/app/tickets/{CRASH}/links/{issue.key}/details"),
                         ("POST", f"/app/tickets/{CRASH}/deliveries/1/retry"),
                         ("POST", f"/app/tickets/{CRASH}/links"),
                         ("POST", f"/app/tickets/{CRASH}/links/{issue.key}/unlink")]:
        r = anonymous.request(method, path, headers=HTMX)
        assert r.status_code == 401, (method, path, r.status_code)
        assert "Sign in through Zendesk" in r.text and issue.key not in r.text
    assert [lk.jira_key for lk in stack.container.store.links_for_ticket(CRASH)] == [issue.key]

    # Signed in but without the session's CSRF token (a forged form post): refused as well.
    client = browser_client()
    del client.headers["X-CSRF-Token"]
    r = client.post(f"/app/tickets/{CRASH}/links/{issue.key}/unlink", headers=HTMX)
    assert r.status_code == 403 and "security token" in r.text
    assert [lk.jira_key for lk in stack.container.store.links_for_ticket(CRASH)] == [issue.key]
