"""JiraTracker end to end against FakeJira: auth, prefixes, one create request, uploads, links, caching."""

from __future__ import annotations

import base64
import dataclasses
import json

import httpx
import pytest
from adapter_fakes import JIRA_BASE, FakeJira, Waits, jira_settings
from test_jira_mapper import BUG, SERVICE

from escalink.adapters.jira import JiraTracker
from escalink.domain.errors import TrackerMisconfigured, VendorRejected
from escalink.ports.tracker import Tracker


def tracker(fake: FakeJira, **settings: object) -> JiraTracker:
    return JiraTracker.from_settings(jira_settings(fake.flavor, **settings), fake.transport(), sleep=Waits())


def test_implements_the_port() -> None:
    t: Tracker = tracker(FakeJira())
    assert t.issue_url("ESCA-7") == f"{JIRA_BASE}/browse/ESCA-7"


@pytest.mark.parametrize(
    ("flavor", "auth", "reporter"),
    [
        (
            "cloud",
            "Basic " + base64.b64encode(b"escalink-bot@example.com:cloud-token").decode(),
            {"accountId": "5b10ac8d82e05b22cc7d4ef5"},
        ),
        ("datacenter", "Bearer dc-pat", {"name": "rfinch"}),
    ],
)
def test_create_issue_in_one_request(flavor: str, auth: str, reporter: dict) -> None:
    fake = FakeJira(flavor=flavor)
    created = tracker(fake).create_issue(BUG)
    assert created.key == "ESCA-101" and created.id == "10101"
    assert created.url == f"{JIRA_BASE}/browse/ESCA-101" and created.omitted_fields == ()
    assert fake.count(r"^POST .*/issue$") == 1
    (body,) = fake.created
    assert body["fields"]["reporter"] == reporter
    assert all(r.headers["Authorization"] == auth for r in fake.requests)
    assert all(r.url.path.startswith(fake.prefix) for r in fake.requests)
    search = next(r for r in fake.requests if r.url.path.endswith("/user/search"))
    key = "query" if flavor == "cloud" else "username"
    assert search.url.params[key] == "robin.finch@example.com"


def test_discovery_and_user_lookup_cost_nothing_once_warm() -> None:
    fake = FakeJira()
    t = tracker(fake)
    t.create_issue(BUG)
    discovery = fake.count("createmeta")
    assert discovery >= 2
    t.check_issue(BUG)
    t.create_issue(dataclasses.replace(BUG, summary="Second"))
    assert fake.count("user/search") == 1
    assert fake.count("createmeta") == discovery
    before = len(fake.requests)
    t.create_issue(BUG)
    assert len(fake.requests) == before + 1  # only the create itself


def test_unknown_reporter_leaves_the_default_and_says_so() -> None:
    fake = FakeJira(users=[])
    t = tracker(fake)
    assert t.check_issue(BUG) == ["reporter"]
    created = t.create_issue(BUG)
    assert created.omitted_fields == ("reporter",)
    assert "reporter" not in fake.created[0]["fields"]


def test_cloud_hidden_email_single_account_is_used_but_several_are_not_guessed() -> None:
    hidden = {"accountId": "acc-1", "displayName": "Robin Finch", "active": True, "accountType": "atlassian"}
    fake = FakeJira(users=[])
    fake.overrides[r"GET /rest/api/3/user/search"] = lambda r: httpx.Response(200, json=[hidden])
    assert tracker(fake).find_user("robin.finch@example.com") == "acc-1"
    fake.overrides[r"GET /rest/api/3/user/search"] = lambda r: httpx.Response(
        200, json=[hidden, dict(hidden, accountId="acc-2")]
    )
    assert tracker(fake).find_user("robin.finch@example.com") is None


def test_check_issue_writes_nothing_and_raises_for_bad_values() -> None:
    fake = FakeJira()
    t = tracker(fake)
    assert t.check_issue(SERVICE) == []
    with pytest.raises(TrackerMisconfigured):
        t.check_issue(dataclasses.replace(SERVICE, request_type="Payroll"))
    assert all(r.method == "GET" for r in fake.requests)


def test_uncategorized_is_omitted_on_create() -> None:
    fake = FakeJira()
    spec = dataclasses.replace(SERVICE, request_type="Uncategorized", request_type_optional=True)
    assert tracker(fake).create_issue(spec).omitted_fields == ("request_type",)


def test_jira_refusal_names_fields_by_their_names() -> None:
    fake = FakeJira()
    fake.overrides[r"POST /rest/api/3/issue"] = lambda r: httpx.Response(
        400, json={"errorMessages": [], "errors": {"customfield_10053": "Option id 'null' is not valid"}}
    )
    with pytest.raises(VendorRejected) as err:
        tracker(fake).create_issue(BUG)
    assert [(p.field, p.message) for p in err.value.problems] == [
        ("Severity", "Option id 'null' is not valid")
    ]


@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
def test_add_attachment_is_multipart_with_the_xsrf_header(flavor: str) -> None:
    fake = FakeJira(flavor=flavor)
    tracker(fake).add_attachment("10101", "screen shot.png", b"\x89PNG fake", "image/png")
    (req,) = fake.requests
    assert req.url.path == f"{fake.prefix}/issue/10101/attachments"
    assert req.headers["X-Atlassian-Token"] == "no-check"
    assert req.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="screen shot.png"' in req.content and b"\x89PNG fake" in req.content


def test_add_remote_link_upserts_by_global_id() -> None:
    fake = FakeJira()
    tracker(fake).add_remote_link(
        "10101", "zendesk-ticket=4242", "https://acme.zendesk.com/agent/tickets/4242", "Zendesk #4242"
    )
    (req,) = fake.requests
    body = json.loads(req.content)
    assert body["globalId"] == "zendesk-ticket=4242"
    assert body["object"] == {
        "url": "https://acme.zendesk.com/agent/tickets/4242",
        "title": "Zendesk #4242",
        "icon": {"title": "Zendesk ticket", "url16x16": "https://acme.zendesk.com/favicon.ico"},
    }


def test_remote_link_is_retried_because_global_id_makes_it_idempotent() -> None:
    fake, calls = FakeJira(), []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(502) if len(calls) == 1 else httpx.Response(201, json={"id": 1, "self": "x"})

    fake.overrides[r"POST .*/remotelink"] = flaky
    tracker(fake).add_remote_link("10101", "g", "https://acme.zendesk.com/agent/tickets/1", "t")
    assert len(calls) == 2


def test_get_issue() -> None:
    fake = FakeJira()
    view = tracker(fake).get_issue("10101")
    assert (view.key, view.summary, view.status, view.priority, view.assignee) == (
        "ESCA-101",
        "App shows 403 after login",
        "In Progress",
        "Critical",
        "Sam Okafor",
    )
    assert view.url == f"{JIRA_BASE}/browse/ESCA-101"
    assert fake.requests[0].url.params["fields"] == "summary,status,priority,assignee,updated"
