"""PHI in the "Create issue" panel: flagged spans highlighted under their field, Create issue held back until
the agent redacts, moves the text to an internal note or marks it Not PHI with a reason, and nothing flagged
reaching the emulated Jira."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from escalink.sandbox.stack import Stack
from tests.ui.escalate_wizard import (
    BUG_AREA,
    disabled,
    fill_bug,
    fragment,
    jira_text,
    only_issue,
    oob_errors,
    seed_draft,
    wizard,
)

Client = Callable[..., httpx.Client]


def test_phi_in_summary_is_highlighted_and_keeps_create_issue_disabled(stack: Stack, browser_client: Client) -> None:
    w = wizard(stack, browser_client(), 101)
    w.choose(BUG_AREA)
    fill_bug(w, seed_draft(stack, 101)).fill(summary="Rosalind Quarry cannot log in on iOS 8.14.0")
    checked = w.check().text
    phi = fragment(checked, "phi-summary")
    assert '<mark class="phi" data-label="NAME"' in phi and "Rosalind Quarry<sup>NAME</sup></mark>" in phi
    assert "cannot log in on iOS 8.14.0" in phi and ">Redact</button>" in phi
    assert fragment(checked, "phi-description").count("<mark") == 0
    assert disabled(checked, "create-issue")
    for button in ("Redact all", "Move to internal note", "Not PHI"):
        assert f">{button}</button>" in fragment(checked, "esc-phi-actions")

    refused = w.submit()  # the button's state is not trusted: the server checks again
    assert refused.status_code == 422
    assert "Rosalind Quarry<sup>NAME</sup>" in fragment(refused.text, "phi-summary")
    assert disabled(refused.text, "create-issue")
    assert stack.emulators.jira_state.issues == {}


def test_redaction_then_submit_sends_no_phi_to_jira(stack: Stack, browser_client: Client) -> None:
    phi = seed_draft(stack, 126)
    w = wizard(stack, browser_client(), 126)
    w.choose(phi.area or BUG_AREA)
    fill_bug(w, phi)
    w.press("redact:summary")
    assert w.get("summary") == ["Duplicate weigh-in reminder sent to [NAME]"]
    assert 'id="summary"' in w.html and "autofocus" in fragment(w.html, "summary")
    assert disabled(w.html, "create-issue")  # the description is still flagged
    w.press("redact_all")
    assert "[DATE]" in w.get("description")[0] and "metformin" not in w.get("description")[0]
    assert not disabled(w.html, "create-issue")
    done = w.submit()
    assert done.status_code == 201, done.text
    issue = only_issue(stack)
    text = jira_text(issue.fields)
    assert "[NAME]" in text
    for value in stack.emulators.seed.phi_values(126):
        assert value not in text


def test_move_to_internal_note_keeps_phi_in_zendesk(stack: Stack, browser_client: Client) -> None:
    w = wizard(stack, browser_client(), 126)
    w.choose(BUG_AREA)
    fill_bug(w, seed_draft(stack, 126))
    moved = w.press("phi:move_to_internal_note")
    assert w.get("phi_action") == ["move_to_internal_note"]
    assert not disabled(moved.text, "create-issue") and "goes to an internal note" in moved.text
    done = w.submit()
    assert done.status_code == 201, done.text
    assert "Flagged text kept in an internal note" in done.text
    text = jira_text(only_issue(stack).fields)
    assert "[details in Zendesk ticket #126, internal note]" in text
    assert all(v not in text for v in stack.emulators.seed.phi_values(126))
    notes = [c.body for c in stack.emulators.zendesk_state.tickets[126].comments if not c.public]
    assert any("Odile Pennington" in n for n in notes)


def test_phi_in_a_chosen_file_name_is_flagged_and_the_file_renamed_in_jira(
        stack: Stack, browser_client: Client) -> None:
    d = seed_draft(stack, 128)
    w = wizard(stack, browser_client(d.agent_email), 128)
    w.choose("Lab")
    w.fill(member_uuids=d.member_uuids, summary=d.summary, attachment_ids=["5008"])
    checked = w.check().text
    files = fragment(checked, "phi-attachment_ids")
    assert "File name: looks like PHI" in files and "<mark" in files and ">Redact</button>" not in files
    assert disabled(checked, "create-issue")
    w.press("phi:move_to_internal_note")
    done = w.submit()
    assert done.status_code == 201, done.text
    issue = only_issue(stack)
    assert [a["filename"] for a in issue.attachments] == ["attachment-5008.pdf"]
    assert "saoirse" not in jira_text(issue.fields).lower()


def test_not_phi_needs_a_reason_and_covers_only_what_was_seen(stack: Stack, browser_client: Client) -> None:
    w = wizard(stack, browser_client(), 101)
    w.choose(BUG_AREA)
    fill_bug(w, seed_draft(stack, 101)).fill(summary="Crash after the Welcome Back screen")
    assert disabled(w.check().text, "create-issue"), "the fixture text must be flagged for this test"
    w.press("phi:override")
    assert '<label for="phi_override_reason">Reason it is not PHI</label>' in w.html
    w.fill(phi_override_reason="short")
    short = w.check().text
    assert disabled(short, "create-issue") and "needs a reason" in oob_errors(short)["phi_override_reason"]
    w.fill(phi_override_reason="Confirmed with Saoirse Lindqvist by phone that this is fine")
    quoted = w.check().text  # the reason is scanned too, and says why it is refused
    assert disabled(quoted, "create-issue")
    assert oob_errors(quoted)["phi_override_reason"].startswith("The reason itself looks like PHI: describe")
    w.fill(phi_override_reason="Screen title of the app, not a person")
    assert not disabled(w.check().text, "create-issue")
    w.fill(description="Reported by Rosalind Quarry on the phone")  # new PHI after "Not PHI"
    changed = w.check().text
    assert disabled(changed, "create-issue") and "changed after you marked it Not PHI" in changed
    assert w.submit().status_code == 422 and stack.emulators.jira_state.issues == {}
