"""Jira emulator: create rules on both APIs, attachments, remote links, search, properties."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from escalink.sandbox.contract import SpecValidator
from escalink.sandbox.jira_state import BUG, SERVICE_REQUEST, JiraState
from escalink.sandbox.runner import Emulators


def adf(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


class Flavour:
    def __init__(self, name: str, client: TestClient, state: JiraState) -> None:
        self.cloud = name == "cloud"
        self.client = client
        self.state = state
        self.prefix = "/rest/api/3" if self.cloud else "/rest/api/2"

    def text(self, value: str) -> Any:
        return adf(value) if self.cloud else value

    def reporter(self, email: str = "dana.whitfield@example.com") -> dict[str, str]:
        user = next(u for u in self.state.users if u.email == email)
        return {"accountId": user.account_id} if self.cloud else {"name": user.name}

    def bug(self) -> dict[str, Any]:
        return {
            "fields": {
                "project": {"key": "ESCA"},
                "issuetype": {"id": BUG},
                "summary": "App closes after login",
                "description": self.text("details"),
                "reporter": self.reporter(),
                "priority": {"name": "Critical"},
                "labels": ["escalink"],
                "customfield_10100": "a7251b24-8335-4727-a9cb-c9263a369ce1",
                "customfield_10101": self.text("1. Open app\n2. Log in"),
                "customfield_10102": self.text("Expected x"),
                "customfield_10103": {"value": "High"},
                "customfield_10104": {"value": "iOS"},
            }
        }


@pytest.fixture(params=["cloud", "dc"])
def flavour(
    request: pytest.FixtureRequest, jira_cloud: TestClient, jira_dc: TestClient, jstate: JiraState
) -> Flavour:
    return Flavour(request.param, jira_cloud if request.param == "cloud" else jira_dc, jstate)


def _set(path: str, value: Any) -> Callable[[dict[str, Any], Flavour], None]:
    def apply(body: dict[str, Any], f: Flavour) -> None:
        body["fields"][path] = value(f) if callable(value) else value

    return apply


def _drop(path: str) -> Callable[[dict[str, Any], Flavour], None]:
    def apply(body: dict[str, Any], f: Flavour) -> None:
        body["fields"].pop(path)

    return apply


RULES = [
    ("unknown field", _set("customfield_99999", "x"), "customfield_99999"),
    (
        "field not on Bug screen",
        _set("customfield_10105", {"value": "Technical Execution"}),
        "customfield_10105",
    ),
    ("missing summary", _drop("summary"), "summary"),
    ("missing member uuid", _drop("customfield_10100"), "customfield_10100"),
    ("missing severity", _drop("customfield_10103"), "customfield_10103"),
    ("severity not allowed", _set("customfield_10103", {"value": "Catastrophic"}), "customfield_10103"),
    ("platform not allowed", _set("customfield_10104", {"value": "Windows Phone"}), "customfield_10104"),
    (
        "textarea wrong type",
        _set("customfield_10101", lambda f: "plain" if f.cloud else adf("x")),
        "customfield_10101",
    ),
    (
        "description wrong type",
        _set("description", lambda f: "plain" if f.cloud else adf("x")),
        "description",
    ),
    (
        "adf missing version",
        _set("description", lambda f: {"type": "doc", "content": []} if f.cloud else 5),
        "description",
    ),
    ("summary too long", _set("summary", "x" * 256), "summary"),
    ("summary newline", _set("summary", "two\nlines"), "summary"),
    ("unknown priority", _set("priority", {"name": "Blocker"}), "priority"),
    (
        "unknown reporter",
        _set("reporter", lambda f: {"accountId": "nobody"} if f.cloud else {"name": "nobody"}),
        "reporter",
    ),
    (
        "reporter by wrong identifier",
        _set("reporter", lambda f: {"name": "dwhitfield"} if f.cloud else {"accountId": "x"}),
        "reporter",
    ),
    ("bad project", _set("project", {"key": "NOPE"}), "project"),
]


@pytest.mark.parametrize(("label", "mutate", "field"), RULES, ids=[r[0] for r in RULES])
def test_create_rules(flavour: Flavour, label: str, mutate: Any, field: str) -> None:
    body = flavour.bug()
    mutate(body, flavour)
    r = flavour.client.post(f"{flavour.prefix}/issue", json=body)
    assert r.status_code == 400, label
    assert set(r.json()) == {"errorMessages", "errors"}
    assert field in r.json()["errors"], r.json()
    assert flavour.state.issues == {}


def test_create_ok_and_read_back(flavour: Flavour) -> None:
    body = flavour.bug()
    body["fields"]["assignee"] = None
    first = flavour.client.post(f"{flavour.prefix}/issue", json=body)
    second = flavour.client.post(f"{flavour.prefix}/issue", json=flavour.bug())
    assert first.status_code == 201 and second.status_code == 201
    assert first.json()["key"] == "ESCA-1" and second.json()["key"] == "ESCA-2"
    assert first.json()["id"].isdigit()
    issue = flavour.client.get(f"{flavour.prefix}/issue/ESCA-1").json()
    fields = issue["fields"]
    assert fields["summary"] == "App closes after login"
    assert fields["priority"]["name"] == "Critical"
    assert fields["customfield_10103"]["value"] == "High"
    assert fields["labels"] == ["escalink"]
    assert fields["assignee"] is None
    assert fields["issuetype"]["name"] == "Bug"
    assert fields["reporter"]["emailAddress"] == "dana.whitfield@example.com"
    assert isinstance(fields["description"], dict if flavour.cloud else str)


def test_service_request_uncategorized_flag(flavour: Flavour) -> None:
    body = {
        "fields": {
            "project": {"key": "ESCA"},
            "issuetype": {"id": SERVICE_REQUEST},
            "summary": "Charge",
            "reporter": flavour.reporter(),
            "customfield_10100": "u",
            "customfield_10105": {"value": "Uncategorized"},
        }
    }
    assert flavour.client.post(f"{flavour.prefix}/issue", json=body).status_code == 400
    flavour.state.offer_uncategorized = True
    assert flavour.client.post(f"{flavour.prefix}/issue", json=body).status_code == 201


def test_createmeta_shapes(flavour: Flavour) -> None:
    types = flavour.client.get(f"{flavour.prefix}/issue/createmeta/ESCA/issuetypes").json()
    listed = types["issueTypes"] if flavour.cloud else types["values"]
    assert {t["name"] for t in listed} == {"Bug", "[System] Service Request"}
    meta = flavour.client.get(f"{flavour.prefix}/issue/createmeta/ESCA/issuetypes/{SERVICE_REQUEST}").json()
    fields = {f["name"]: f for f in (meta["fields"] if flavour.cloud else meta["values"])}
    options = [o["value"] for o in fields["Support Escalation Type"]["allowedValues"]]
    assert "Uncategorized" not in options and "Operations Support" in options
    assert fields["Member UUID"]["schema"]["custom"].endswith(":textfield")
    assert [p["name"] for p in fields["Priority"]["allowedValues"]][0] == "Production Blocker"
    if flavour.cloud:
        path = f"/rest/api/3/issue/createmeta/ESCA/issuetypes/{SERVICE_REQUEST}"
        assert (
            SpecValidator.for_vendor("jira-cloud").validate_response(
                "GET", path, 200, flavour.client.get(path).content
            )
            == []
        )


def test_auth_is_per_flavour(jira_cloud: TestClient, jstate: JiraState) -> None:
    assert jira_cloud.get("/rest/api/2/myself").status_code == 401  # Basic is not a DC PAT here
    r = jira_cloud.get("/rest/api/3/myself", auth=("escalink@example.com", "wrong"))
    assert r.status_code == 401 and "errorMessages" in r.json()
    assert (
        jira_cloud.get(
            "/rest/api/2/myself", auth=None, headers={"Authorization": f"Bearer {jstate.dc_pat}"}
        ).json()["name"]
        == "escalink"
    )


def test_spec_violation_shape(flavour: Flavour) -> None:
    r = flavour.client.post(f"{flavour.prefix}/issue", json={"fields": ["not", "an", "object"]})
    assert r.status_code == 400
    assert r.json()["errorMessages"] and r.json()["errors"] == {}


def test_attachments_need_xsrf_header(flavour: Flavour) -> None:
    flavour.client.post(f"{flavour.prefix}/issue", json=flavour.bug())
    url = f"{flavour.prefix}/issue/ESCA-1/attachments"
    files = {"file": ("shot.png", b"\x89PNG", "image/png")}
    assert flavour.client.post(url, files=files).status_code == 403
    r = flavour.client.post(url, files=files, headers={"X-Atlassian-Token": "no-check"})
    assert r.status_code == 200
    assert r.json()[0]["filename"] == "shot.png" and r.json()[0]["size"] == 4


def test_remote_link_upsert(flavour: Flavour) -> None:
    flavour.client.post(f"{flavour.prefix}/issue", json=flavour.bug())
    url = f"{flavour.prefix}/issue/ESCA-1/remotelink"
    link = {
        "globalId": "zendesk:ticket:101",
        "object": {"url": "https://z.example.com/agent/tickets/101", "title": "Zendesk #101"},
    }
    first = flavour.client.post(url, json=link)
    link["object"]["title"] = "Zendesk #101 (hold)"
    second = flavour.client.post(url, json=link)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    links = flavour.client.get(url).json()
    assert len(links) == 1 and links[0]["object"]["title"] == "Zendesk #101 (hold)"
    one = flavour.client.get(url, params={"globalId": "zendesk:ticket:101"}).json()
    assert one["id"] == first.json()["id"]


def test_every_change_leaves_a_history_entry_and_comments_none(flavour: Flavour) -> None:
    flavour.client.post(f"{flavour.prefix}/issue", json=flavour.bug())
    files = [("file", ("a.png", b"a", "image/png")), ("file", ("b.png", b"b", "image/png"))]
    flavour.client.post(f"{flavour.prefix}/issue/ESCA-1/attachments", files=files,
                        headers={"X-Atlassian-Token": "no-check"}).raise_for_status()
    link = {"globalId": "zendesk:ticket:101", "object": {"url": "https://z.example.com/t/101", "title": "Zendesk #101"}}
    for _ in range(2):  # created, then updated: Jira's history shows the creation only
        flavour.client.post(f"{flavour.prefix}/issue/ESCA-1/remotelink", json=link).raise_for_status()
    flavour.client.post(f"{flavour.prefix}/issue/ESCA-1/comment", json={"body": flavour.text("x")}).raise_for_status()
    engineer = flavour.state.add_user("jpike", "jordan.pike@example.com", "Jordan Pike")
    moved = flavour.client.post("/_sandbox/issues/ESCA-1/transition", json={"status": "Resolved", "by": "jpike"})
    assert moved.status_code == 200 and moved.json()["history_id"]
    again = flavour.client.post("/_sandbox/issues/ESCA-1/transition", json={"status": "Resolved"})
    assert again.status_code == 200 and again.json()["history_id"] is None  # no change, no entry
    assert flavour.client.post("/_sandbox/issues/ESCA-1/transition",
                               json={"status": "Open", "by": "nobody"}).status_code == 400

    path = f"{flavour.prefix}/issue/ESCA-1"
    answer = flavour.client.get(path, params={"expand": "changelog"})
    spec = SpecValidator.for_vendor("jira-cloud" if flavour.cloud else "jira-dc")
    assert spec.validate_response("GET", path, 200, answer.content) == []
    histories = answer.json()["changelog"]["histories"]
    if flavour.cloud:
        histories = histories[::-1]  # Cloud: newest first
    assert [[i["field"] for i in h["items"]] for h in histories] == [
        ["Attachment", "Attachment"], ["RemoteIssueLink"], ["status"]]
    service = flavour.state.service_user
    assert [h["author"]["displayName"] for h in histories] == [service.display_name] * 2 + ["Jordan Pike"]
    assert histories[2]["id"] == moved.json()["history_id"] and histories[2]["created"] == moved.json()["updated"]
    status = histories[2]["items"][0]
    assert (status["fromString"], status["toString"], status["from"], status["to"]) == ("Open", "Resolved", "1", "5")
    assert ("fieldId" in status) is flavour.cloud
    assert histories[2]["author"].get("accountId" if flavour.cloud else "name") == (
        engineer.account_id if flavour.cloud else "jpike")
    assert "changelog" not in flavour.client.get(path).json()

    # Searches send the history only when asked: Cloud takes `expand` as a string, DC's POST as a list.
    search = "/rest/api/3/search/jql" if flavour.cloud else "/rest/api/2/search"
    query = {"jql": "key = ESCA-1", "fields": ["summary", "status"]}
    expanded = flavour.client.post(search, json={**query, "expand": "changelog" if flavour.cloud else ["changelog"]})
    assert spec.validate_response("POST", search, 200, expanded.content) == []
    assert expanded.json()["issues"][0]["changelog"] == answer.json()["changelog"]
    assert "changelog" not in flavour.client.post(search, json=query).json()["issues"][0]
    if flavour.cloud:  # (the DC spec types GET /search's `expand` as an object: a defect of that spec)
        found = flavour.client.get(search, params={"jql": "key = ESCA-1", "expand": "changelog"}).json()
        assert found["issues"][0]["changelog"]["total"] == 3


def test_comments_search_properties(flavour: Flavour) -> None:
    flavour.client.post(f"{flavour.prefix}/issue", json=flavour.bug())
    c = flavour.client.post(f"{flavour.prefix}/issue/ESCA-1/comment", json={"body": flavour.text("Update")})
    assert c.status_code == 201
    bad = flavour.client.post(
        f"{flavour.prefix}/issue/ESCA-1/comment", json={"body": adf("x") if not flavour.cloud else "plain"}
    )
    assert bad.status_code == 400
    assert flavour.client.get(f"{flavour.prefix}/issue/ESCA-1/comment").json()["total"] == 1
    search = "/rest/api/3/search/jql" if flavour.cloud else "/rest/api/2/search"
    found = flavour.client.post(
        search,
        json={
            "jql": 'project = ESCA AND labels = escalink AND updated >= "2000-01-01"',
            "fields": ["summary"],
        },
    ).json()
    assert [i["key"] for i in found["issues"]] == ["ESCA-1"]
    assert flavour.client.get(search, params={"jql": "labels = other"}).json()["issues"] == []
    assert flavour.client.get(search, params={"jql": "reporter = x"}).status_code == 400
    prop = f"{flavour.prefix}/issue/ESCA-1/properties/escalink"
    assert flavour.client.get(prop).status_code == 404
    assert flavour.client.put(prop, json={"ticket_id": 101}).status_code == 201
    assert flavour.client.put(prop, json={"ticket_id": 102}).status_code == 200
    assert flavour.client.get(prop).json() == {"key": "escalink", "value": {"ticket_id": 102}}


def test_user_search(jira_cloud: TestClient, jira_dc: TestClient) -> None:
    cloud = jira_cloud.get("/rest/api/3/user/search", params={"query": "lena.kowalczyk@example.com"}).json()
    assert set(cloud[0]) >= {"accountId", "emailAddress", "displayName", "active"}
    dc = jira_dc.get("/rest/api/2/user/search", params={"username": "lena.kowalczyk@example.com"}).json()
    assert dc[0]["name"] == "lkowalczyk" and {"key", "emailAddress", "displayName"} <= set(dc[0])


def test_live_jira_over_loopback(live: Emulators) -> None:
    with httpx.Client(
        base_url=live.jira_url, headers={"Authorization": f"Bearer {live.jira_dc_pat}"}, timeout=5
    ) as dc:
        assert dc.get("/rest/api/2/serverInfo").json()["deploymentType"] == "Server"
        assert dc.get("/rest/api/2/project/ESCA").json()["name"] == "Support Escalations"
    with httpx.Client(
        base_url=live.jira_url, auth=(live.jira_cloud_email, live.jira_cloud_api_token), timeout=5
    ) as cloud:
        me = cloud.get("/rest/api/3/myself")
        assert me.json()["emailAddress"] == live.jira_cloud_email
        assert cloud.get("/rest/api/3/search").status_code == 404  # old search is not emulated
    assert live.recorder.count("jira") >= 4
    assert live.recorder.spec_violations("jira-cloud")[-1].path == "/rest/api/3/search"


def test_attachment_names_lists_what_was_uploaded(tmp_path: object) -> None:
    from escalink.adapters.jira.client import JiraTracker
    from escalink.domain.records import IssueSpec
    from escalink.sandbox.runner import start_emulators
    from escalink.sandbox.stack import sandbox_settings

    with start_emulators() as emu:
        jira = JiraTracker.from_settings(sandbox_settings(emu, flavor="cloud", database_url="sqlite://"),
                                         project_key="ESCA")
        issue = jira.create_issue(IssueSpec(
            project_key="ESCA", issue_type="Bug", summary="Settings page shows 403", description="",
            reporter_email=emu.seed.drafts()[0].agent_email, member_uuids=("3f1c2a9e-0b1d-4c2e-9a7b-5d6e7f8a9b0c",),
            steps_to_reproduce=("Opened app", "Saw 403"), expected_result="Settings open", actual_result="403",
            severity="High", priority="Critical", platform="iOS", labels=("escalink",)))
        assert jira.attachment_names(issue.id) == set()
        jira.add_attachment(issue.id, "notes.txt", b"fictional", "text/plain")
        assert "notes.txt" in jira.attachment_names(issue.id)
