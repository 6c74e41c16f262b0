"""End to end over real HTTP: Escalink's API → emulated Zendesk and Jira (both Jira flavours)."""

from __future__ import annotations

from typing import Any

import httpx

from escalink.domain.errors import VendorUnavailable
from escalink.sandbox.faults import FaultRule
from escalink.sandbox.stack import Stack
from tests.e2e.conftest import counted_calls, draft_json

BUG_WITH_TWO_ATTACHMENTS = 101
SERVICE_REQUEST_OTHER = 118


def _text(value: Any) -> str:
    """Flatten an ADF document (Cloud) or return wiki text (DC)."""
    if isinstance(value, dict):
        return " ".join(_text(v) for k, v in value.items() if k in ("content", "text"))
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    return str(value)


def test_bug_is_created_with_every_field_linked_and_the_ticket_put_on_hold(stack: Stack, api: httpx.Client) -> None:
    draft = draft_json(stack, BUG_WITH_TWO_ATTACHMENTS)
    mark = stack.emulators.recorder.mark()
    resp = api.post("/api/escalations", json=draft)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["state"] == "done" and body["issue_type"] == "Bug" and body["zendesk_status"] == "hold"

    # Budget: read the ticket and its comments, create, remote link, ticket update + download/upload per attachment.
    calls = counted_calls(stack, mark)
    assert len(calls) == 5 + 2 * len(draft["attachment_ids"]), [(c.method, c.path) for c in calls]
    assert stack.emulators.recorder.spec_violations() == []

    jira = stack.emulators.jira_state
    issue = jira.issue(body["jira_issue_id"])
    assert issue is not None and issue.key == body["jira_key"]
    f = issue.fields
    assert f["summary"] == draft["summary"]
    assert f["customfield_10100"] == draft["member_uuids"][0]  # Member UUID in its own field
    steps = _text(f["customfield_10101"])
    assert all(step in steps for step in draft["steps_to_reproduce"])
    eva = _text(f["customfield_10102"])
    assert draft["expected_result"] in eva and draft["actual_result"] in eva
    assert f["customfield_10103"]["value"] == draft["severity"]
    assert f["customfield_10104"]["value"] == draft["platform"]
    assert f["priority"]["name"] == draft["priority"]
    assert issue.reporter.email == draft["agent_email"]
    assert issue.assignee is None
    assert sorted(a["filename"] for a in issue.attachments) == ["app-crash.log", "login-crash.png"]
    assert len(issue.remote_links) == 1
    link = issue.remote_links[0]
    assert link["object"]["url"].endswith(f"/agent/tickets/{BUG_WITH_TWO_ATTACHMENTS}")

    ticket = stack.emulators.zendesk_state.tickets[BUG_WITH_TWO_ATTACHMENTS]
    assert ticket.status == "hold"
    note = ticket.comments[-1]
    assert note.public is False and body["jira_key"] in note.body and body["jira_url"] in note.body
    assert "jira_escalated" in ticket.tags


def test_service_request_other_leaves_uncategorized_blank_when_jira_lacks_it(stack: Stack, api: httpx.Client) -> None:
    resp = api.post("/api/escalations", json=draft_json(stack, SERVICE_REQUEST_OTHER))
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["issue_type"] == "[System] Service Request" and body["request_type"] is None
    assert any(w["field"] == "request_type" and w["code"] == "left_blank" for w in body["warnings"])
    issue = stack.emulators.jira_state.issue(body["jira_issue_id"])
    assert issue is not None and "customfield_10105" not in issue.fields


def test_uncategorized_is_sent_when_jira_offers_it(stack: Stack, api: httpx.Client) -> None:
    stack.emulators.jira_state.offer_uncategorized = True
    resp = api.post("/api/escalations", json=draft_json(stack, SERVICE_REQUEST_OTHER))
    body = resp.json()
    issue = stack.emulators.jira_state.issue(body["jira_issue_id"])
    assert issue is not None and issue.fields["customfield_10105"]["value"] == "Uncategorized"
    assert body["request_type"] == "Uncategorized"


def test_an_invalid_draft_gets_every_problem_and_creates_nothing(stack: Stack, api: httpx.Client) -> None:
    draft = draft_json(
        stack, BUG_WITH_TWO_ATTACHMENTS, priority="Release Blocker", member_uuids=["not-a-uuid"],
        platform="Windows Phone", summary="x" * 300, steps_to_reproduce=["Opened app"], checklist=[],
    )
    mark = stack.emulators.recorder.mark()
    resp = api.post("/api/escalations", json=draft)
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/problem+json")
    problem = resp.json()
    fields = {e["field"]: e["code"] for e in problem["errors"]}
    assert fields == {
        "summary": "too_long", "member_uuids[0]": "invalid_uuid", "steps_to_reproduce": "not_ordered_steps",
        "priority": "not_selectable", "platform": "unknown_value", "checklist": "required",
    }
    assert stack.emulators.recorder.since(mark) == []  # not even a read
    assert stack.emulators.jira_state.issues == {}
    assert stack.container.store.links_for_ticket(BUG_WITH_TWO_ATTACHMENTS) == []


def test_validate_endpoint_reports_without_sending(stack: Stack, api: httpx.Client) -> None:
    mark = stack.emulators.recorder.mark()
    ok = api.post("/api/escalations/validate", json=draft_json(stack, 105)).json()
    assert ok == {"valid": True, "issue_type": "[System] Service Request", "request_type": "Operations Support",
                  "errors": [], "warnings": [], "phi_findings": [], "redacted": {}}
    bad = api.post("/api/escalations/validate", json={"ticket_id": 105, "agent_email": "a@example.com"}).json()
    assert bad["valid"] is False and {e["field"] for e in bad["errors"]} >= {"area", "summary", "checklist"}
    assert stack.emulators.recorder.since(mark) == []


def test_malformed_request_is_problem_json_naming_each_field(api: httpx.Client) -> None:
    resp = api.post("/api/escalations", json={"ticket_id": "abc", "severity": 3, "colour": "red"})
    assert resp.status_code == 422 and resp.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in resp.json()["errors"]}
    assert {"ticket_id", "agent_email", "severity", "colour"} <= fields


def test_attachment_not_on_the_ticket_is_refused_before_anything_is_created(stack: Stack, api: httpx.Client) -> None:
    resp = api.post("/api/escalations", json=draft_json(stack, BUG_WITH_TWO_ATTACHMENTS, attachment_ids=[5001, 4242]))
    assert resp.status_code == 422
    assert [e["field"] for e in resp.json()["errors"]] == ["attachment_ids[1]"]
    assert stack.emulators.jira_state.issues == {}


def test_jira_without_a_needed_field_is_reported_before_anything_is_created(stack: Stack, api: httpx.Client) -> None:
    jira = stack.emulators.jira_state
    original = jira.screen
    jira.screen = lambda type_id: [f for f in original(type_id) if f.name != "Severity"]  # type: ignore[method-assign]
    resp = api.post("/api/escalations", json=draft_json(stack, BUG_WITH_TWO_ATTACHMENTS))
    assert resp.status_code == 502 and "Severity" in resp.json()["detail"]
    assert resp.json()["type"] == "/problems/tracker-misconfigured"
    assert jira.issues == {} and stack.emulators.zendesk_state.tickets[BUG_WITH_TWO_ATTACHMENTS].status == "open"


def test_links_endpoint_shows_live_details_and_warns_about_a_second_issue(stack: Stack, api: httpx.Client) -> None:
    first = api.post("/api/escalations", json=draft_json(stack, 104)).json()
    links = api.get("/api/tickets/104/links").json()
    assert [lk["key"] for lk in links["links"]] == [first["jira_key"]]
    one = links["links"][0]
    assert one["summary"] == draft_json(stack, 104)["summary"] and one["status"]
    assert one["url"].endswith(first["jira_key"])
    assert links["warnings"] == []
    api.post("/api/escalations", json=draft_json(stack, 104, summary="A second, separate problem"))
    links = api.get("/api/tickets/104/links").json()
    assert len(links["links"]) == 2 and links["warnings"][0]["code"] == "several_issues"
    assert api.get("/api/tickets/999999/links").json()["links"] == []


def test_a_closed_ticket_is_refused_and_no_issue_is_created(stack: Stack, api: httpx.Client) -> None:
    issues_before = len(stack.emulators.jira_state.issues)
    resp = api.post("/api/escalations", json=draft_json(stack, 104, ticket_id=125))
    assert resp.status_code == 422, resp.text
    assert [(e["field"], e["code"]) for e in resp.json()["errors"]] == [("ticket_id", "closed")]
    assert len(stack.emulators.jira_state.issues) == issues_before
    assert api.get("/api/tickets/125/links").json()["links"] == []


def test_policy_endpoint_serves_the_rules(api: httpx.Client) -> None:
    policy = api.get("/api/policy").json()
    assert policy["project"]["key"] == "ESCA"
    assert api.get("/openapi.json").status_code == 200


def test_an_agent_without_a_jira_account_gets_escalinks_account_as_reporter(stack: Stack, api: httpx.Client) -> None:
    resp = api.post("/api/escalations", json=draft_json(stack, 104, agent_email="new.agent@example.com"))
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert any(w["field"] == "reporter" and w["code"] == "left_blank" for w in body["warnings"])
    issue = stack.emulators.jira_state.issue(body["jira_issue_id"])
    assert issue is not None and issue.reporter.email == stack.emulators.jira_cloud_email
    bad = api.post("/api/escalations/validate", json=draft_json(stack, 104, agent_email="not an email"))
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["agent_email"]


def test_a_second_escalation_of_a_ticket_is_warned_about_at_once(stack: Stack, api: httpx.Client) -> None:
    first = api.post("/api/escalations", json=draft_json(stack, 104)).json()
    second = api.post("/api/escalations", json=draft_json(stack, 104, summary="Another problem")).json()
    warning = next(w for w in second["warnings"] if w["code"] == "several_issues")
    assert first["jira_key"] in warning["message"] and "ALL linked issues" in warning["message"]


def test_unknown_ticket_names_the_field_and_unknown_routes_are_problem_json(stack: Stack, api: httpx.Client) -> None:
    resp = api.post("/api/escalations", json=draft_json(stack, 104, ticket_id=99999))
    assert resp.status_code == 404
    assert resp.json()["errors"][0]["field"] == "ticket_id" and "99999" in resp.json()["detail"]
    for method, path, status in (("GET", "/api/nope", 404), ("DELETE", "/api/policy", 405)):
        r = api.request(method, path)
        assert r.status_code == status and r.headers["content-type"].startswith("application/problem+json")
    assert api.get("/api/escalations/validate").status_code == 422  # not an escalation id


def test_the_issue_link_opens_a_page_on_the_sandbox_jira(stack: Stack, api: httpx.Client) -> None:
    body = api.post("/api/escalations", json=draft_json(stack, 104)).json()
    page = httpx.get(body["jira_url"])
    assert page.status_code == 200 and body["jira_key"] in page.text


def test_a_failing_step_is_queued_for_retry_and_the_answer_says_so(stack: Stack, api: httpx.Client) -> None:
    stack.emulators.faults.set([FaultRule(vendor="jira", path="*/remotelink", kind="503")])
    resp = api.post("/api/escalations", json=draft_json(stack, 104))
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["state"] == "created" and body["jira_key"] and body["zendesk_status"] == "hold"
    [waiting] = [s for s in body["steps"] if not s["ok"]]
    assert waiting["step"] == "remote_link" and waiting["detail"].startswith("Queued; Escalink tries again")
    [job] = stack.container.store.jobs(kind="escalation.remote_link", state="pending")
    assert job.attempts == 1 and job.error_code == "VendorUnavailable"
    stack.emulators.faults.clear()
    stack.container.store.revive([], now=job.next_try_at)  # nothing dead: no change
    stack.container.queue.dispatch([job.id])  # too early: the job waits for its back-off
    assert stack.container.store.get_job(job.id).state == "pending"  # type: ignore[union-attr]


def test_an_incomplete_escalation_is_resumed_not_escalated_twice(stack: Stack, api: httpx.Client) -> None:
    faults = stack.emulators.faults
    faults.set([FaultRule(vendor="jira", path="*/remotelink", kind="500")])
    options = stack.container.runner.options
    attempts, options.max_attempts = options.max_attempts, 1  # dead-lettered at the first failure
    try:
        first = api.post("/api/escalations", json=draft_json(stack, BUG_WITH_TWO_ATTACHMENTS)).json()
    finally:
        options.max_attempts = attempts
    assert first["state"] == "incomplete"
    failed = [s for s in first["steps"] if not s["ok"]]
    assert [s["step"] for s in failed] == ["remote_link"] and "resume" in failed[0]["detail"]
    faults.clear()
    again = api.post("/api/escalations", json=draft_json(stack, BUG_WITH_TWO_ATTACHMENTS))
    assert again.status_code == 409 and first["escalation_id"] in again.json()["detail"]
    mark = stack.emulators.recorder.mark()
    resumed = api.post(f"/api/escalations/{first['escalation_id']}/resume")
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["state"] == "done" and resumed.json()["jira_key"] == first["jira_key"]
    calls = [(c.method, c.path.rsplit("/", 1)[-1]) for c in stack.emulators.recorder.since(mark)]
    assert calls == [("POST", "remotelink")]  # only the failed step ran again
    assert len(stack.emulators.jira_state.issues) == 1
    assert api.post(f"/api/escalations/{first['escalation_id']}/resume").status_code == 409


def test_a_create_whose_answer_is_lost_is_found_not_repeated(stack: Stack, api: httpx.Client) -> None:
    tracker = stack.container.tracker
    real_create = tracker.create_issue

    def create_then_lose_the_answer(spec: Any) -> Any:
        real_create(spec)  # Jira created it, but the answer never arrives
        raise VendorUnavailable("Jira did not answer in time", vendor="jira")

    tracker.create_issue = create_then_lose_the_answer  # type: ignore[method-assign]
    resp = api.post("/api/escalations", json=draft_json(stack, 104))
    assert resp.status_code == 201 and resp.json()["state"] == "done", resp.text
    issues = list(stack.emulators.jira_state.issues.values())
    assert len(issues) == 1 and issues[0].key == resp.json()["jira_key"]
    assert any(label.startswith("escalink-") and label != "escalink" for label in issues[0].fields["labels"])
    assert stack.emulators.recorder.spec_violations() == []
