"""The "Create issue" panel over real HTTP: Escalink on loopback against the emulated Zendesk and Jira, an
agent signed in by cookie, the form posted back whole as its HTMX page does (see escalate_wizard.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

import httpx
import pytest

from escalink.sandbox.faults import FaultRule
from escalink.sandbox.stack import Stack
from tests.ui.conftest import AGENT, TIER2
from tests.ui.escalate_wizard import (
    BUG_AREA,
    HX,
    disabled,
    fill_bug,
    fragment,
    only_issue,
    oob_errors,
    policy_of,
    read_form,
    seed_draft,
    wizard,
)

Client = Callable[..., httpx.Client]
MEMBER_UUID_FIELD = "customfield_10100"
REQUEST_TYPE_FIELD = "customfield_10105"
# One seeded ticket per Service Request group of the guide's table, with the request type it must get.
SR_GROUPS = [
    (105, "Eligibility", "Operations Support"),
    (109, "Lab", "Document Processing Support (Lab, Medical Record, etc)"),
    (111, "Metric Updates", "Technical Execution"),
    (113, "General feedback of product", "Product Feedback"),
    (114, "General question on how something works", "Product / General FAQ"),
    (118, "Other", "Uncategorized"),
]


# --- Step 0 and the area ------------------------------------------------------------------------------------


def test_checklist_gates_the_area_step(stack: Stack, browser_client: Client) -> None:
    client = browser_client()
    policy = policy_of(stack)
    start = client.get("/app/tickets/101/escalate")
    assert start.status_code == 200
    assert 'id="panel"' in start.text  # a normal load gets the whole ticket shell around the panel
    for item in policy.checklist:
        assert item.text in start.text
        assert f'name="checklist" value="{item.id}" required' in start.text
    assert "NO PHI in JIRA" in start.text and "Continue</button>" in start.text
    assert 'name="area"' not in start.text

    ids = policy.checklist_ids()
    w = wizard(stack, client, 101)
    partial = w.post("/area", [("checklist", ids[0]), ("checklist", ids[1])])
    assert partial.status_code == 422
    assert "Confirm every check before you continue." in partial.text
    assert 'name="area"' not in partial.text
    assert f'value="{ids[0]}" required checked' in partial.text  # what was ticked stays ticked
    assert f'value="{ids[2]}" required>' in partial.text

    # The server gate holds for every later step too, whatever the page sends.
    skipped = w.post("/form", [("checklist", ids[0]), ("area", BUG_AREA)])
    assert skipped.status_code == 422 and 'id="esc-form"' not in skipped.text
    assert w.post("", [("area", BUG_AREA), ("summary", "x")]).status_code == 422
    assert stack.emulators.jira_state.issues == {}

    full = w.post("/area", [("checklist", i) for i in ids])
    assert full.status_code == 200
    for area in policy.area_names():
        assert f'value="{area}" required' in full.text


def test_a_closed_ticket_says_so_at_step_0_and_its_submit_creates_nothing(stack: Stack,
                                                                          browser_client: Client) -> None:
    client = browser_client()
    start = client.get("/app/tickets/125/escalate", headers=HX)  # ticket 125 is closed in the sandbox
    assert start.status_code == 200
    assert "This ticket cannot be escalated." in start.text and "create a follow-up ticket" in start.text
    assert "Continue</button>" not in start.text
    assert "Continue</button>" in client.get("/app/tickets/101/escalate", headers=HX).text
    missing = client.get("/app/tickets/99999/escalate", headers=HX)
    assert "Zendesk has no ticket #99999" in missing.text and "Continue</button>" not in missing.text

    # A page that skips Step 0's warning is refused at submit, before anything is written.
    w = wizard(stack, client, 125)
    w.choose(BUG_AREA)
    done = fill_bug(w, seed_draft(stack, 101)).submit()
    assert done.status_code == 422 and "create a follow-up ticket" in done.text
    assert stack.emulators.jira_state.issues == {}


def test_each_area_group_gives_its_issue_and_request_type(stack: Stack, browser_client: Client) -> None:
    client = browser_client()
    policy = policy_of(stack)
    area_page = wizard(stack, client, 105).post("/area", [("checklist", i) for i in policy.checklist_ids()])
    for row in policy.areas:
        creates = "Bug" if row.request_type is None else f"[System] Service Request &gt; {row.request_type}"
        assert f'<span class="muted">Creates</span> {creates}</legend>' in area_page.text
        for area in row.areas:
            w = wizard(stack, client, 105)
            form = w.choose(area)
            assert form.status_code == 200, form.text
            assert f"<strong>Creates:</strong> {creates}</p>" in form.text
            if row.request_type is None:
                assert 'name="steps_to_reproduce"' in form.text and 'name="request_type"' not in form.text
                assert w.get("request_type") == []
            else:
                assert 'name="steps_to_reproduce"' not in form.text and 'name="severity"' not in form.text
                assert w.get("request_type") == [row.request_type]
                assert "Add another member UUID" not in form.text  # a Service Request takes exactly one
    assert "(if it does not show, leave this field blank)" in area_page.text


# --- inline checks ------------------------------------------------------------------------------------------


def test_check_reports_each_field_of_a_blank_bug_and_nothing_for_a_complete_one(
        stack: Stack, browser_client: Client) -> None:
    w = wizard(stack, browser_client(), 101)
    w.choose(BUG_AREA)
    # Only the fields the agent has been in are named while they type; submit names them all.
    fresh = oob_errors(w.check().text)
    assert {k: v for k, v in fresh.items() if v} == {}
    w.set("visited", "summary")
    assert {k: v for k, v in oob_errors(w.check().text).items() if v} == {
        "summary": "Summary is required for a Bug."}
    w.set("visited", "member_uuids summary steps_to_reproduce expected_result actual_result severity priority "
          "platform description")
    blank = w.check()
    assert blank.status_code == 200
    errors = oob_errors(blank.text)
    assert errors["member_uuids"] == "Member UUID is required for a Bug."
    assert errors["summary"] == "Summary is required for a Bug."
    assert errors["steps_to_reproduce"] == "Steps to Reproduce is required for a Bug."
    for name, label in [("expected_result", "Expected Result"), ("actual_result", "Actual Result"),
                        ("severity", "Severity"), ("priority", "Priority"), ("platform", "Platform")]:
        assert errors[name] == f"{label} is required for a Bug."
    assert errors["description"] == "" and errors["general"] == ""
    assert "8 problems to fix" in blank.text

    w.fill(member_uuids="not-a-uuid", summary="x" * 300)
    wrong = oob_errors(w.check().text)
    assert "is not a member UUID" in wrong["member_uuids-0"]
    assert wrong["summary"] == "Summary has 300 characters; at most 255 are allowed."

    fill_bug(w, seed_draft(stack, 101))
    complete = w.check()
    assert {k: v for k, v in oob_errors(complete.text).items() if v} == {}
    assert "No problems found." in complete.text
    assert not disabled(complete.text, "create-issue")
    assert stack.emulators.jira_state.issues == {}  # checking sends nothing


def test_inputs_have_labels_and_errors_are_linked(stack: Stack, browser_client: Client) -> None:
    w = wizard(stack, browser_client(), 101)
    form = w.choose(BUG_AREA).text
    page = Tags()
    page.feed(form)
    labels = {t["for"] for t in page.tags if t["tag"] == "label"}
    ids = {t["id"] for t in page.tags if "id" in t}
    controls = [t for t in page.tags if t["tag"] in ("input", "select", "textarea") and t.get("type") != "hidden"]
    assert controls and all(t["id"] in labels for t in controls), [t for t in controls if t.get("id") not in labels]
    for t in page.tags:
        for ref in t.get("aria-describedby", "").split():
            assert ref in ids, (t, ref)
    for key in ("summary", "member_uuids-0", "steps_to_reproduce-1", "severity", "priority", "platform"):
        assert f"err-{key}" in next(t for t in controls if t["id"] == key)["aria-describedby"]
    assert "<a " not in fragment(form, "esc-form") and 'role="button"' not in form  # actions are <button>s
    # The form's own check swaps nothing (hx-swap="none"); its buttons must not inherit that.
    buttons = [t for t in page.tags if t["tag"] == "button" and "hx-post" in t]
    assert len(buttons) > 5 and 'hx-disinherit="*"' in form
    assert all(t["type"] == "button" and t["hx-target"] == "#panel" and t["hx-swap"] == "innerHTML" for t in buttons)
    for label in ("Summary", "Member UUID", "Expected Result", "Actual Result", "Severity", "Priority", "Platform"):
        assert re.search(rf"<label for=\"[\w-]+\">{label}</label>", form), label
    assert '<span class="vh">Steps to Reproduce: </span>Step 1</label>' in form
    sr = wizard(stack, browser_client(), 105)
    assert '<label for="request_type">Support Escalation Type</label>' in sr.choose("Eligibility").text


@pytest.mark.parametrize(("ticket_id", "area"), [(101, BUG_AREA), (105, "Eligibility")])
def test_every_fragment_of_the_check_has_its_place_in_the_form(
        stack: Stack, browser_client: Client, ticket_id: int, area: str) -> None:
    w = wizard(stack, browser_client(), ticket_id)
    form = w.choose(area).text
    answer = w.fill(summary="Rosalind Quarry").check().text
    targets = re.findall(r'id="([^"]+)"[^>]*hx-swap-oob=', answer)
    assert len(targets) > 10 and "phi-summary" in targets and "create-issue" not in targets
    missing = [t for t in targets if f'id="{t}"' not in form]
    assert missing == []


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append({"tag": tag, **{k: v or "" for k, v in attrs}})


# --- lists and priority -------------------------------------------------------------------------------------


def test_steps_and_uuids_are_edited_with_buttons(stack: Stack, browser_client: Client) -> None:
    w = wizard(stack, browser_client(), 104)
    w.choose(BUG_AREA)
    assert len(w.get("steps_to_reproduce")) == 2  # the policy asks for two steps at least
    w.fill(steps_to_reproduce=["Open the app", "Saw an error"])
    added = w.press("add:steps_to_reproduce")
    assert w.get("steps_to_reproduce") == ["Open the app", "Saw an error", ""]
    assert 'id="steps_to_reproduce-2" name="steps_to_reproduce" value="" aria-required="true"' in added.text
    assert 'aria-describedby="err-steps_to_reproduce-2" autofocus' in added.text  # focus goes to the new step
    w.set("steps_to_reproduce", "Open the app", "Saw an error", "Tap Steps")
    moved = w.press("up:steps_to_reproduce:2")
    assert w.get("steps_to_reproduce") == ["Open the app", "Tap Steps", "Saw an error"]
    assert 'aria-label="Move step 2 up" autofocus' in moved.text  # focus follows the moved step
    assert 'aria-label="Move step 3 down"' not in moved.text and 'aria-label="Move step 1 up"' not in moved.text
    w.press("down:steps_to_reproduce:0")
    assert w.get("steps_to_reproduce") == ["Tap Steps", "Open the app", "Saw an error"]
    w.press("remove:steps_to_reproduce:0")
    assert w.get("steps_to_reproduce") == ["Open the app", "Saw an error"]

    w.press("add:member_uuids")
    assert w.get("member_uuids") == ["", ""]
    assert '<label for="member_uuids-1">Member UUID 2</label>' in w.html
    assert 'aria-label="Remove UUID 2"' in w.html
    w.press("remove:member_uuids:0")
    assert w.get("member_uuids") == [""]


def test_release_blocker_is_never_offered(stack: Stack, browser_client: Client) -> None:
    policy = policy_of(stack)
    hidden = next(p for p in policy.priorities if not p.selectable_by_support)
    w = wizard(stack, browser_client(), 101)
    pages = [w.client.get("/app/tickets/101/escalate").text, w.choose(BUG_AREA).text]
    selectable = [p for p in policy.priorities if p.selectable_by_support]
    options = re.findall(r"<option>([^<]+)</option>", fragment(w.html, "priority"))
    assert options == [p.name for p in selectable]
    asked = []
    pages.append(w.press("helper:start").text)
    for _ in selectable:
        asked.append(re.search(r"<strong>([^<]+)</strong>", fragment(w.html, "esc-question")).group(1))  # type: ignore[union-attr]
        pages.append(w.press("helper:no").text)
    assert asked == [p.criteria.rstrip(".") + "?" for p in selectable]
    assert "None of the descriptions fit" in w.html
    w.press("priority:" + hidden.name)  # a forged button value does not set it either
    assert w.get("priority") == [""]
    pages.append(w.check().text)
    for html in pages:
        assert hidden.name not in html and hidden.criteria not in html


def test_priority_helper_suggests_and_the_agent_accepts(stack: Stack, browser_client: Client) -> None:
    w = wizard(stack, browser_client(), 101)
    w.choose(BUG_AREA)
    w.press("helper:start")
    assert "Critical, widespread issue present in Production version?" in w.html
    assert "Vida app is down" in w.html
    w.press("helper:no")
    w.press("helper:no")
    suggested = w.press("helper:yes")
    assert "Suggested: <strong>Critical</strong>" in suggested.text
    assert ">Use Critical</button>" in suggested.text
    w.press("priority:Critical")
    assert w.get("priority") == ["Critical"]
    assert "<option selected>Critical</option>" in w.html


# --- escalating ---------------------------------------------------------------------------------------------


def test_bug_end_to_end_creates_the_issue_and_puts_the_ticket_on_hold(stack: Stack, browser_client: Client) -> None:
    d = seed_draft(stack, 101)
    w = wizard(stack, browser_client(), 101)
    form = w.choose(BUG_AREA)
    assert 'value="5001"' in form.text and ">login-crash.png</label>" in form.text  # from the ticket's comments
    fill_bug(w, d)
    w.press("add:member_uuids")
    second = "4e889107-7809-4bbc-9285-ebe596e8fa8c"
    w.set("member_uuids", d.member_uuids[0], second)
    w.set("agent_email", "someone.else@example.com")  # ignored: the agent is the session's
    done = w.submit()
    assert done.status_code == 201, done.text
    issue = only_issue(stack)
    assert f'>{issue.key}</a>' in done.text and f'href="{stack.container.tracker.issue_url(issue.key)}"' in done.text
    assert "<dd>Bug</dd>" in done.text and "Issue created" in done.text
    for line in (f"Jira issue {issue.key} created", "Attachment login-crash.png copied to the issue",
                 "Attachment app-crash.log copied to the issue", "Issue linked to the ticket",
                 "Internal note added, ticket put on hold"):
        assert f"{line}: <strong>ok</strong>" in done.text, line
    assert 'hx-get="/app/tickets/101/links"' in done.text and "Back to Linked issues</button>" in done.text

    assert issue.fields[MEMBER_UUID_FIELD] == f"{d.member_uuids[0]}, {second}"
    assert issue.fields["summary"] == d.summary
    assert issue.reporter.email == AGENT
    assert sorted(a["filename"] for a in issue.attachments) == ["app-crash.log", "login-crash.png"]
    ticket = stack.emulators.zendesk_state.tickets[101]
    assert ticket.status == "hold"
    assert issue.key in ticket.comments[-1].body and ticket.comments[-1].public is False


def test_a_service_request_per_escalation_type_group(stack: Stack, browser_client: Client) -> None:
    stack.emulators.jira_state.offer_uncategorized = True  # so that the Uncategorized value can be checked too
    for ticket_id, area, request_type in SR_GROUPS:
        d = seed_draft(stack, ticket_id)
        w = wizard(stack, browser_client(d.agent_email), ticket_id)
        w.choose(area)
        w.fill(member_uuids=d.member_uuids, summary=d.summary, description=d.description)
        done = w.submit()
        assert done.status_code == 201, (area, done.text)
        key = re.search(r'id="esc-issue-link">([A-Z]+-\d+)</a>', done.text).group(1)  # type: ignore[union-attr]
        issue = stack.emulators.jira_state.issue(key)
        assert issue is not None
        assert "<dd>[System] Service Request</dd>" in done.text and f"<dd>{request_type}</dd>" in done.text
        assert issue.fields[REQUEST_TYPE_FIELD]["value"] == request_type
        assert issue.fields[MEMBER_UUID_FIELD] == d.member_uuids[0]
        assert issue.reporter.email == d.agent_email
        assert stack.emulators.zendesk_state.tickets[ticket_id].status == "hold"
    assert len(stack.emulators.jira_state.issues) == len(SR_GROUPS)


def test_agent_may_choose_another_request_type_than_the_area_recommends(
        stack: Stack, browser_client: Client) -> None:
    d = seed_draft(stack, 105)
    w = wizard(stack, browser_client(TIER2), 105)
    w.choose("Eligibility")
    w.fill(member_uuids=d.member_uuids, summary=d.summary, request_type="Technical Execution")
    checked = w.check().text
    assert {k: v for k, v in oob_errors(checked).items() if v} == {}
    assert "Service Request &gt; Technical Execution" in fragment(checked, "esc-creates")
    done = w.submit()
    assert done.status_code == 201, done.text
    issue = only_issue(stack)
    assert issue.fields[REQUEST_TYPE_FIELD]["value"] == "Technical Execution"
    assert issue.reporter.email == TIER2


def test_the_same_form_posted_twice_gives_one_issue(stack: Stack, browser_client: Client) -> None:
    w = wizard(stack, browser_client(), 102)
    w.choose("Incorrect Messaging")
    fill_bug(w, seed_draft(stack, 102))
    posted = list(w.fields)
    key = w.get("idempotency_key")
    assert len(key) == 1 and len(key[0]) >= 16
    first = w.post("", posted)
    again = w.post("", posted)
    assert first.status_code == again.status_code == 201, again.text
    issue = only_issue(stack)
    assert f">{issue.key}</a>" in first.text and f">{issue.key}</a>" in again.text
    assert len(stack.container.store.links_for_ticket(102)) == 1
    # A new visit to the panel is a new escalation: its form carries a new key.
    fresh = wizard(stack, w.client, 102)
    fresh.choose("Incorrect Messaging")
    assert fresh.get("idempotency_key") != key


def test_policy_problems_on_submit_come_back_beside_the_fields(stack: Stack, browser_client: Client) -> None:
    w = wizard(stack, browser_client(), 101)
    w.choose(BUG_AREA)
    fill_bug(w, seed_draft(stack, 101)).fill(steps_to_reproduce=["Opened app"], attachment_ids=["5001", "4242"])
    refused = w.submit()
    assert refused.status_code == 422
    assert "list at least 2 steps in order" in fragment(refused.text, "err-steps_to_reproduce")
    assert w.get("summary") == [seed_draft(stack, 101).summary]  # nothing the agent typed is lost
    fill_bug(w, seed_draft(stack, 101)).fill(attachment_ids=["5001", "4242"])
    missing = w.submit()
    assert missing.status_code == 422
    assert "Attachment 4242 is not on ticket #101." in fragment(missing.text, "err-attachment_ids")
    assert stack.emulators.jira_state.issues == {}


def test_jira_busy_answers_queued_and_explains(stack: Stack, browser_client: Client) -> None:
    stack.emulators.faults.storm("jira", 30)
    w = wizard(stack, browser_client(), 103)
    w.choose(BUG_AREA)
    fill_bug(w, seed_draft(stack, 103))
    queued = w.submit()
    stack.emulators.faults.clear()
    assert queued.status_code == 202, queued.text
    assert "Escalation queued" in queued.text
    assert "Jira is busy; Escalink keeps trying." in queued.text
    assert "pending</strong>" in queued.text
    assert stack.emulators.jira_state.issues == {}


def test_jira_refusing_the_issue_keeps_the_form_and_a_retry_is_a_new_attempt(
        stack: Stack, browser_client: Client) -> None:
    stack.emulators.faults.add(FaultRule(kind="400", vendor="jira", method="POST", path="/rest/api/3/issue"))
    w = wizard(stack, browser_client(), 103)
    w.choose(BUG_AREA)
    fill_bug(w, seed_draft(stack, 103))
    first_key = w.get("idempotency_key")
    refused = w.submit()
    assert refused.status_code >= 400 and 'role="alert"' in refused.text, refused.text
    assert w.get("summary") == [seed_draft(stack, 103).summary]  # the form stays as typed
    assert w.get("idempotency_key") != first_key  # the failed escalation is not replayed on the next press
    assert stack.emulators.jira_state.issues == {}
    stack.emulators.faults.clear()
    done = w.submit()
    assert done.status_code == 201, done.text
    assert f">{only_issue(stack).key}</a>" in done.text


@pytest.mark.parametrize("path", ["/app/tickets/101/escalate/check", "/app/tickets/101/escalate"])
def test_posts_need_the_session_and_its_csrf_token(browser_client: Client, path: str) -> None:
    anonymous = browser_client(signed_in=False)
    assert anonymous.post(path, data={"summary": "x"}, headers=HX).status_code == 401
    client = browser_client()
    client.headers.pop("X-CSRF-Token")
    assert client.post(path, data={"summary": "x"}, headers=HX).status_code == 403


def test_form_state_lives_in_the_form(stack: Stack, browser_client: Client) -> None:
    w = wizard(stack, browser_client(), 101)
    w.choose(BUG_AREA)
    names = {k for k, _ in read_form(w.html)}
    assert {"checklist", "area", "idempotency_key", "phi_action"} <= names
    w.fill(summary="Crash on login")
    other = wizard(stack, browser_client(), 101)  # a second client posting the same form gets the same page
    other.fields = list(w.fields)
    assert other.press("add:steps_to_reproduce").status_code == 200
    assert other.get("summary") == ["Crash on login"]
    changed = w.post("/area", [*w.fields, ("op", "area")])
    assert changed.status_code == 200 and 'value="General technical issues/failures" required checked' in changed.text
    assert 'name="summary" value="Crash on login"' in changed.text  # carried over a change of area
