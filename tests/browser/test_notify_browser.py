"""Notify linked issues in a real browser: one issue's comment fails, the receipt says so, Retry sends it."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from escalink.sandbox.jira_state import BUG
from escalink.sandbox.stack import Stack

CRASH = 101  # its sample draft's agent is a Tier 1 agent; its comments carry two attachments


def test_notify_with_one_target_failing_then_retried(live: Stack, page: Page) -> None:
    jira = live.emulators.jira_state
    issues = [jira.create_issue(BUG, {"summary": f"Login crash {n}", "priority": {"name": "Major"}},
                                jira.service_user, None) for n in (1, 2)]
    for issue in issues:
        r = httpx.post(f"{live.url}/api/tickets/{CRASH}/links", json={"issue": issue.key})
        assert r.status_code == 201, r.text
    broken = issues[1]
    jira.fail_comments_for.add(broken.key)

    page.goto(f"{live.url}/app/tickets/{CRASH}")  # the sandbox signs in as the ticket's agent
    expect(page.get_by_role("tab", name="Linked issues")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("note", name="One Jira issue per ticket")).to_contain_text("go to ALL linked JIRA tickets")
    eye = page.get_by_role("button", name=f"Details of {issues[0].key}")
    eye.click()
    expect(eye).to_have_attribute("aria-expanded", "true")
    details = page.locator(f"#details-{issues[0].key}")
    expect(details.get_by_role("link", name=f"Open {issues[0].key} in Jira")).to_be_visible()
    eye.press("Enter")  # the eye toggles: the keyboard closes what it opened
    expect(eye).to_have_attribute("aria-expanded", "false")
    expect(details).to_be_empty()
    page.get_by_role("tab", name="Notify").click()
    page.get_by_label("Comment for the linked issues").fill("The crash also happens on build 8.14.1.")
    page.get_by_label("login-crash.png", exact=False).check()
    # Tier 1: choosing one issue picks the hand-off, and the button says so; "All" takes it back.
    page.get_by_label("Issue for Tier 2").select_option(broken.key)
    expect(page.get_by_label("One issue only: hand off to Tier 2")).to_be_checked()
    expect(page.get_by_role("button", name="Hand off to Tier 2")).to_be_visible()
    page.get_by_label("All linked issues (2)").check()
    page.get_by_role("button", name="Send to linked issues").click()

    status = page.locator("#notify-status")
    expect(status.get_by_role("heading", name="Sent to 1 of 2 issues; 1 failed")).to_be_visible()
    expect(status).to_be_focused()  # the answer takes the focus, not the page's body
    expect(status.locator(".receipt.state-failed")).to_contain_text(broken.key)
    assert len(issues[0].comments) == 1 and broken.comments == []

    jira.fail_comments_for.clear()
    page.get_by_role("button", name=f"Retry sending to {broken.key}", exact=False).click()
    expect(status.locator(".receipt.state-sent")).to_have_count(2)
    expect(status.locator(".receipt.state-sent").filter(has_text=broken.key)).to_be_focused()
    expect(status.get_by_role("heading", name="Sent to all 2 issues")).to_be_visible()
    assert len(broken.comments) == 1 and len(broken.attachments) == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
