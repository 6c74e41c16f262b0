"""Fakes for the vendor adapter tests.

`FakeJira` and `FakeZendesk` answer like the real APIs (both createmeta shapes,
cursor pagination, ...) behind an httpx.MockTransport; every request is recorded.
People in these fixtures are fictional.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx

from escalink.adapters.http import VendorHTTP
from escalink.adapters.vendor_answers import VendorProfile
from escalink.config import Settings

# Copies of real vendor responses, with their provenance in fixtures/*/SOURCES.md.
FIXTURES = Path(__file__).resolve().parent / "fixtures"
JIRA_BASE = "https://esca.example.atlassian.net"
ZENDESK_BASE = "https://acme.zendesk.com"

PRIORITIES = ["Production Blocker", "Release Blocker", "Feature Blocker", "Critical", "Major", "Minor"]
SEVERITIES = ["Critical", "High", "Medium", "Low"]
PLATFORMS = ["iOS", "Android", "Member Web App", "Provider Dashboard", "Health Guide Platform"]
REQUEST_TYPES = [
    "Operations Support",
    "Document Processing Support (Lab, Medical Record, etc)",
    "Technical Execution",
    "Product Feedback",
    "Product / General FAQ",
]


def shared_json(*parts: str) -> Any:
    return json.loads(FIXTURES.joinpath(*parts).read_text(encoding="utf-8"))


def sample_issue_types(file_name: str) -> list[dict[str, Any]]:
    """Issue types of a real createmeta sample, each with `fields` as the new endpoints list them."""
    data = shared_json("jira-api", file_name)
    out = []
    for it in data["projects"][0]["issuetypes"]:
        fields = [{**raw, "fieldId": fid, "key": fid} for fid, raw in it["fields"].items()]
        out.append(
            {"id": it["id"], "name": it["name"], "subtask": it.get("subtask", False), "fields": fields}
        )
    return out


def _system(fid: str, name: str, type_: str, *, required: bool = False, **extra: Any) -> dict[str, Any]:
    return {
        "fieldId": fid,
        "key": fid,
        "name": name,
        "required": required,
        "schema": {"type": type_, "system": fid},
        "operations": ["set"],
        **extra,
    }


def _custom(num: int, name: str, kind: str, values: list[str] | None = None) -> dict[str, Any]:
    type_ = {"select": "option", "multiselect": "array", "radiobuttons": "option"}.get(kind, "string")
    raw: dict[str, Any] = {
        "fieldId": f"customfield_{num}",
        "key": f"customfield_{num}",
        "name": name,
        "required": False,
        "schema": {
            "type": type_,
            "custom": f"com.atlassian.jira.plugin.system.customfieldtypes:{kind}",
            "customId": num,
        },
        "operations": ["set"],
    }
    if kind == "multiselect":
        raw["schema"]["items"] = "option"
    if values is not None:
        raw["allowedValues"] = [{"id": str(10000 + i), "value": v} for i, v in enumerate(values)]
    return raw


def esca_issue_types(
    *, reporter_on_screen: bool = True, request_types: list[str] | None = None
) -> list[dict]:
    """A fictional Support Escalations project set up the way the escalation guide describes."""
    common = [
        _system("project", "Project", "project", required=True),
        _system("issuetype", "Issue Type", "issuetype", required=True),
        _system("summary", "Summary", "string", required=True),
        _system("description", "Description", "string"),
        _system("labels", "Labels", "array"),
        _system("assignee", "Assignee", "user"),
        _custom(10050, "Member UUID", "textfield"),
    ]
    if reporter_on_screen:
        common.append(_system("reporter", "Reporter", "user", required=True))
    bug = common + [
        _system(
            "priority",
            "Priority",
            "priority",
            allowedValues=[{"id": str(i + 1), "name": p} for i, p in enumerate(PRIORITIES)],
        ),
        _custom(10051, "Steps to Reproduce", "textarea"),
        _custom(10052, "Expected vs Actual Result", "textarea"),  # no dot: matched loosely
        _custom(10053, "Severity", "select", SEVERITIES),
        _custom(10054, "Platform", "select", PLATFORMS),
    ]
    service = common + [
        _custom(
            10055,
            "Support Escalation Type",
            "select",
            REQUEST_TYPES if request_types is None else request_types,
        ),
    ]
    return [
        {"id": "10100", "name": "Bug", "subtask": False, "fields": bug},
        {"id": "10200", "name": "[System] Service Request", "subtask": False, "fields": service},
        {"id": "10300", "name": "Sub-task", "subtask": True, "fields": common},
    ]


def _page(items: list[Any], query: dict[str, list[str]], key: str, flavor: str, size: int) -> dict[str, Any]:
    start = int(query.get("startAt", ["0"])[0])
    size = min(size, int(query.get("maxResults", [str(size)])[0]))
    chunk = items[start : start + size]
    if flavor == "cloud":
        return {key: chunk, "startAt": start, "maxResults": size, "total": len(items)}
    # Data Center pages use `values` and say when they are the last one.
    return {
        "values": chunk,
        "startAt": start,
        "maxResults": size,
        "total": len(items),
        "isLast": start + len(chunk) >= len(items),
    }


@dataclass
class FakeJira:
    """Answers the Jira endpoints Escalink uses, for one flavor; records every request."""

    flavor: str = "cloud"
    issue_types: list[dict[str, Any]] = field(default_factory=esca_issue_types)
    users: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {
                "accountId": "5b10ac8d82e05b22cc7d4ef5",
                "name": "rfinch",
                "emailAddress": "robin.finch@example.com",
                "displayName": "Robin Finch",
                "active": True,
                "accountType": "atlassian",
            },
        ]
    )
    page_size: int = 2
    project_key: str = "ESCA"
    requests: list[httpx.Request] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    overrides: dict[str, Callable[[httpx.Request], httpx.Response]] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return "/rest/api/3" if self.flavor == "cloud" else "/rest/api/2"

    def count(self, pattern: str) -> int:
        return sum(1 for r in self.requests if re.search(pattern, f"{r.method} {r.url.path}"))

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        route = f"{request.method} {request.url.path}"
        for pattern, answer in self.overrides.items():
            if re.fullmatch(pattern, route):
                return answer(request)
        query = parse_qs(request.url.query.decode())
        p = re.escape(self.prefix)
        if m := re.fullmatch(rf"GET {p}/issue/createmeta/(\w+)/issuetypes", route):
            if m.group(1) != self.project_key:
                return httpx.Response(
                    404, json={"errorMessages": ["No project could be found"], "errors": {}}
                )
            types = [{k: v for k, v in it.items() if k != "fields"} for it in self.issue_types]
            return httpx.Response(200, json=_page(types, query, "issueTypes", self.flavor, self.page_size))
        if m := re.fullmatch(rf"GET {p}/issue/createmeta/(\w+)/issuetypes/(\d+)", route):
            it = next((t for t in self.issue_types if t["id"] == m.group(2)), None)
            if it is None:
                return httpx.Response(404, json={"errorMessages": ["Issue type not found"], "errors": {}})
            return httpx.Response(200, json=_page(it["fields"], query, "fields", self.flavor, self.page_size))
        if route == f"GET {self.prefix}/user/search":
            wanted = (query.get("query") or query.get("username") or [""])[0].lower()
            return httpx.Response(
                200, json=[u for u in self.users if u.get("emailAddress", "").lower() == wanted]
            )
        if route == f"POST {self.prefix}/issue":
            body = json.loads(request.content)
            self.created.append(body)
            n = 100 + len(self.created)
            return httpx.Response(
                201,
                json={
                    "id": str(10000 + n),
                    "key": f"ESCA-{n}",
                    "self": f"{JIRA_BASE}{self.prefix}/issue/{10000 + n}",
                },
            )
        if re.fullmatch(rf"POST {p}/issue/[\w-]+/attachments", route):
            return httpx.Response(200, json=[{"id": "10500", "filename": "x"}])
        if re.fullmatch(rf"POST {p}/issue/[\w-]+/remotelink", route):
            return httpx.Response(
                201, json={"id": 10000, "self": f"{JIRA_BASE}{self.prefix}/issue/1/remotelink/1"}
            )
        if m := re.fullmatch(rf"GET {p}/issue/([\w-]+)", route):
            return httpx.Response(
                200,
                json={
                    "id": "10101",
                    "key": "ESCA-101",
                    "fields": {
                        "summary": "App shows 403 after login",
                        "status": {"name": "In Progress"},
                        "priority": {"name": "Critical"},
                        "assignee": {"displayName": "Sam Okafor"},
                        "updated": "2024-05-08T15:52:10.123+0000",
                    },
                },
            )
        return httpx.Response(404, json={"errorMessages": [f"unexpected {route}"], "errors": {}})


def zendesk_comment(
    cid: int, body: str, *, public: bool = True, attachments: list[dict] | None = None
) -> dict:
    return {
        "id": cid,
        "type": "Comment",
        "author_id": 900 + cid,
        "body": body,
        "plain_body": body,
        "public": public,
        "created_at": f"2024-05-0{cid % 9 + 1}T10:00:00Z",
        "attachments": attachments or [],
    }


@dataclass
class FakeZendesk:
    """Answers the Zendesk endpoints Escalink uses; comments come in cursor pages of `page_size`."""

    comments: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2
    requests: list[httpx.Request] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        route = f"{request.method} {request.url.path}"
        query = parse_qs(request.url.query.decode())
        if m := re.fullmatch(r"GET /api/v2/tickets/(\d+)/comments", route):
            if m.group(1) == "404":
                return httpx.Response(404, json={"error": "RecordNotFound", "description": "Not found"})
            start = int(query.get("page[after]", ["0"])[0])
            chunk = self.comments[start : start + self.page_size]
            more = start + len(chunk) < len(self.comments)
            after = str(start + len(chunk))
            nxt = (
                f"{ZENDESK_BASE}/api/v2/tickets/{m.group(1)}/comments.json?include_inline_images=true"
                f"&page%5Bafter%5D={after}&page%5Bsize%5D={self.page_size}"
            )
            return httpx.Response(
                200,
                json={
                    "comments": chunk,
                    "meta": {"has_more": more, "after_cursor": after},
                    "links": {"next": nxt if more else None},
                },
            )
        if m := re.fullmatch(r"GET /api/v2/tickets/(\d+)", route):
            return httpx.Response(
                200,
                json={
                    "ticket": {
                        "id": int(m.group(1)),
                        "subject": "Cannot log in",
                        "status": "open",
                        "tags": ["vip", "app"],
                    }
                },
            )
        if m := re.fullmatch(r"GET /api/v2/users/(\d+)", route):
            return httpx.Response(200, json={"user": {"id": int(m.group(1)), "name": "Robin Finch",
                                                      "email": "robin.finch@example.com", "role": "agent"}})
        if m := re.fullmatch(r"GET /api/v2/users/(\d+)/group_memberships", route):
            return httpx.Response(200, json={"group_memberships": [
                {"id": 1, "user_id": int(m.group(1)), "group_id": 360002, "default": True}]})
        if re.fullmatch(r"PUT /api/v2/tickets/(\d+)", route):
            return httpx.Response(200, json={"ticket": {"id": 1}, "audit": {"id": 2}})
        return httpx.Response(404, json={"error": "InvalidEndpoint", "description": route})


def jira_settings(flavor: str = "cloud", **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "jira_url": JIRA_BASE,
        "jira_flavor": flavor,
        "jira_email": "escalink-bot@example.com",
        "jira_api_token": "cloud-token",
        "jira_pat": "dc-pat",
        "zendesk_url": ZENDESK_BASE,
        "http_max_attempts": 3,
        "http_max_retry_wait_seconds": 60.0,
    }
    base.update(overrides)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


def zendesk_settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "zendesk_url": ZENDESK_BASE,
        "zendesk_email": "escalink-bot@example.com",
        "zendesk_api_token": "zd-token",
        "http_max_attempts": 3,
    }
    base.update(overrides)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


@dataclass
class Waits:
    """Records the sleeps an adapter asked for instead of sleeping."""

    calls: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def jira_http(transport: httpx.BaseTransport) -> VendorHTTP:
    """A Jira client that tries once and answers from `transport` (for field and mapper tests)."""
    return VendorHTTP(
        "https://jira.example.com",
        profile=VendorProfile("jira", "Jira", "check"),
        auth=None,
        timeout=5,
        max_attempts=1,
        max_retry_wait=1,
        transport=transport,
    )
