"""End to end with injected vendor faults: Escalink retries as the vendors ask and files each issue once."""

from __future__ import annotations

import httpx
import pytest

from escalink.sandbox.faults import FaultRule
from escalink.sandbox.stack import Stack
from tests.e2e.conftest import draft_json

BUG_WITH_TWO_ATTACHMENTS = 101
CREATE = r"^/rest/api/[23]/issue$"


def test_a_429_on_the_create_is_waited_out_and_the_issue_filed_once(stack: Stack, api: httpx.Client) -> None:
    e = stack.emulators
    e.faults.add(FaultRule(kind="429", vendor="jira", method="POST", path=CREATE, count=1, retry_after=1))
    issues = len(e.jira_state.issues)
    mark = e.recorder.mark()

    resp = api.post("/api/escalations", json=draft_json(stack, BUG_WITH_TWO_ATTACHMENTS))

    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["state"] == "done"
    assert len(e.jira_state.issues) == issues + 1
    assert e.jira_state.issue(body["jira_key"]) is not None
    creates = [c for c in e.recorder.since(mark, "jira") if c.method == "POST" and c.path.endswith("/issue")]
    assert [(c.status, c.fault) for c in creates] == [(429, "429"), (201, None)]
    assert creates[1].time - creates[0].time >= 1.0  # Retry-After: 1 was honoured
    assert e.recorder.spec_violations() == []


@pytest.mark.parametrize("flavor", ["cloud"])  # the Zendesk side is the same for both Jira flavours
def test_a_503_on_the_comments_read_is_retried(stack: Stack, api: httpx.Client) -> None:
    e = stack.emulators
    comments = f"/api/v2/tickets/{BUG_WITH_TWO_ATTACHMENTS}/comments"
    e.faults.add(FaultRule(kind="503", vendor="zendesk", method="GET", path=comments, count=1))
    mark = e.recorder.mark()

    resp = api.post("/api/escalations", json=draft_json(stack, BUG_WITH_TWO_ATTACHMENTS))

    assert resp.status_code == 201, resp.text
    assert resp.json()["state"] == "done"
    reads = [c for c in e.recorder.since(mark, "zendesk") if c.path == comments]
    assert [(c.status, c.fault) for c in reads[:2]] == [(503, "503"), (200, None)]
    issue = e.jira_state.issue(resp.json()["jira_key"])
    assert issue is not None and len(issue.attachments) == 2
