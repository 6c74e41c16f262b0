"""JiraTracker.issue_details: the description and the latest comments, as plain text, in both flavours."""

from __future__ import annotations

import json

import httpx
import pytest
from adapter_fakes import FakeJira, Waits, jira_settings
from test_adapter_contract import Validating

from escalink.adapters.jira import JiraTracker
from escalink.domain.errors import NotFound
from escalink.ports.tracker import IssueReader

ADF = {"type": "doc", "version": 1, "content": [
    {"type": "paragraph", "content": [{"type": "text", "text": "Crash on login."}]},
    {"type": "paragraph", "content": [{"type": "text", "text": "Build 8.14.0 only."}]},
]}


def _issue(flavor: str) -> dict[str, object]:
    return {"id": "10101", "key": "ESCA-101", "fields": {
        "summary": "App shows 403 after login", "status": {"name": "In Progress"}, "priority": {"name": "Major"},
        "assignee": None, "updated": "2024-05-08T15:52:10.123+0000",
        "description": ADF if flavor == "cloud" else "Crash on login.\n\nBuild 8.14.0 only.",
    }}


def _comment(n: int, flavor: str) -> dict[str, object]:
    text = f"Looked at it ({n})."
    body: object = ({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}]} if flavor == "cloud" else text)
    return {"id": str(20000 + n), "author": {"displayName": f"Dev {n}"}, "body": body,
            "created": f"2024-05-0{n}T10:00:00.000+0000"}


@pytest.mark.parametrize(("flavor", "vendor"), [("cloud", "jira-cloud"), ("datacenter", "jira-dc")])
def test_details_bring_description_and_latest_comments_newest_first(flavor: str, vendor: str) -> None:
    fake = FakeJira(flavor=flavor)
    p = fake.prefix
    fake.overrides[rf"GET {p}/issue/[\w-]+"] = lambda r: httpx.Response(200, json=_issue(flavor))
    # Five comments in all; Jira answers the newest three because it was asked to sort by -created.
    fake.overrides[rf"GET {p}/issue/10101/comment"] = lambda r: httpx.Response(200, json={
        "comments": [_comment(n, flavor) for n in (5, 4, 3)], "startAt": 0, "maxResults": 3, "total": 5})
    transport = Validating(vendor, fake)
    reader: IssueReader = JiraTracker.from_settings(jira_settings(flavor), transport, sleep=Waits())

    details = reader.issue_details("ESCA-101", comments=3)

    assert details.issue.key == "ESCA-101" and details.issue.status == "In Progress"
    assert details.description == "Crash on login.\n\nBuild 8.14.0 only."
    assert [c.body for c in details.comments] == ["Looked at it (5).", "Looked at it (4).", "Looked at it (3)."]
    assert [c.author for c in details.comments] == ["Dev 5", "Dev 4", "Dev 3"]
    assert details.total_comments == 5
    issue_req, comments_req = fake.requests
    assert issue_req.url.params["fields"] == "summary,status,priority,assignee,updated,description"
    assert comments_req.url.params["orderBy"] == "-created" and comments_req.url.params["maxResults"] == "3"
    assert transport.errors == []


def test_details_of_a_missing_issue_raise_not_found() -> None:
    fake = FakeJira()
    fake.overrides[r"GET /rest/api/3/issue/ESCA-9"] = lambda r: httpx.Response(
        404, json={"errorMessages": ["Issue does not exist or you do not have permission to see it."]})
    tracker = JiraTracker.from_settings(jira_settings("cloud"), fake.transport(), sleep=Waits())
    with pytest.raises(NotFound):
        tracker.issue_details("ESCA-9")
    assert fake.count("/comment") == 0


def test_an_issue_without_description_or_comments() -> None:
    fake = FakeJira()
    bare = {"id": "10101", "key": "ESCA-101", "fields": {"summary": "S", "status": {"name": "To Do"},
                                                          "description": None}}
    fake.overrides[r"GET /rest/api/3/issue/10101"] = lambda r: httpx.Response(200, content=json.dumps(bare))
    fake.overrides[r"GET /rest/api/3/issue/10101/comment"] = lambda r: httpx.Response(
        200, json={"comments": [], "startAt": 0, "maxResults": 3, "total": 0})
    details = JiraTracker.from_settings(jira_settings("cloud"), fake.transport(), sleep=Waits()).issue_details("10101")
    assert details.description == "" and details.comments == () and details.total_comments == 0
