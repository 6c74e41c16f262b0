"""The spec validator accepts the specs' own examples and refuses broken requests."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from escalink.sandbox.contract import SpecValidator

VENDORS = ("zendesk", "jira-cloud", "jira-dc")


def _request_examples(name: str) -> list[tuple[str, str, Any]]:
    """(method, concrete path, example body) for every request-body example in the subset."""
    v = SpecValidator.for_vendor(name)
    out: list[tuple[str, str, Any]] = []
    for template, item in v.spec["paths"].items():
        for method, op in item.items():
            if method not in ("post", "put") or "requestBody" not in op:
                continue
            media = v.resolve(op["requestBody"]).get("content", {}).get("application/json")
            if not media:
                continue
            examples = [media["example"]] if "example" in media else []
            examples += [v.resolve(e)["value"] for e in media.get("examples", {}).values()]
            path = v.base_path + template
            for param in ("{ticket_id}", "{issueIdOrKey}", "{propertyKey}"):
                path = path.replace(param, "10001" if param == "{ticket_id}" else "ESCA-1")
            out.extend((method.upper(), path, ex) for ex in examples)
    return out


@pytest.mark.parametrize("name", ["zendesk", "jira-cloud"])
def test_spec_examples_are_accepted(name: str) -> None:
    examples = _request_examples(name)
    assert len(examples) >= 2
    v = SpecValidator.for_vendor(name)
    for method, path, body in examples:
        assert v.validate(method, path, "", {}, json.dumps(body).encode(), "application/json") == [], path


def test_for_vendor_is_cached_and_rejects_unknown() -> None:
    assert SpecValidator.for_vendor("jira-dc") is SpecValidator.for_vendor("jira-dc")
    with pytest.raises(ValueError):
        SpecValidator.for_vendor("servicenow")


def test_every_subset_has_provenance() -> None:
    for name in VENDORS:
        prov = SpecValidator.for_vendor(name).spec["x-provenance"]
        assert prov["source"] and prov["licence"]
    assert SpecValidator.for_vendor("jira-dc").spec["x-provenance"]["patches"]


@pytest.mark.parametrize(
    ("name", "method", "path", "query", "body", "ctype", "expected"),
    [
        ("zendesk", "PUT", "/api/v2/tickets/abc", "", b"{}", "application/json", "path.ticket_id"),
        (
            "zendesk",
            "PUT",
            "/api/v2/tickets/1",
            "",
            b'{"ticket": {"status": "bogus"}}',
            "application/json",
            "body.ticket.status",
        ),
        (
            "zendesk",
            "PUT",
            "/api/v2/tickets/1",
            "",
            b'{"ticket": {"comment": {"public": "no"}}}',
            "application/json",
            "body.ticket.comment.public",
        ),
        ("zendesk", "PUT", "/api/v2/tickets/1", "", b"{not json", "application/json", "not valid JSON"),
        ("zendesk", "GET", "/api/v2/tickets/show_many", "", b"", None, "query.ids"),
        ("zendesk", "POST", "/api/v2/uploads", "", b"abc", "image/png", "query.filename"),
        ("zendesk", "POST", "/api/v2/uploads", "filename=a.png", b"", None, "request body is required"),
        ("zendesk", "GET", "/api/v2/macros", "", b"", None, "unknown path"),
        ("zendesk", "DELETE", "/api/v2/tickets/1", "", b"", None, "is not an operation"),
        ("zendesk", "GET", "/api/v2/users/me", "", b'{"a": 1}', "application/json", "no request body"),
        ("jira-cloud", "POST", "/rest/api/3/issue", "", b'{"fields": []}', "application/json", "body.fields"),
        ("jira-cloud", "POST", "/rest/api/3/issue", "", b'{"fields": {}}', "text/plain", "content type"),
        ("jira-cloud", "POST", "/rest/api/3/issue/ESCA-1/attachments", "", b"", None, "required"),
        (
            "jira-cloud",
            "POST",
            "/rest/api/3/issue/ESCA-1/comment",
            "",
            b'{"body": "x", "id": "1"}',
            "application/json",
            "read-only",
        ),
        ("jira-cloud", "GET", "/rest/api/3/search/jql", "maxResults=lots", b"", None, "query.maxResults"),
        ("jira-cloud", "GET", "/rest/api/3/search", "", b"", None, "unknown path"),
        ("jira-dc", "GET", "/api/2/myself", "", b"", None, "unknown path"),
        (
            "jira-dc",
            "POST",
            "/rest/api/2/issue",
            "updateHistory=maybe",
            b"{}",
            "application/json",
            "query.updateHistory",
        ),
        (
            "jira-dc",
            "POST",
            "/rest/api/2/search",
            "",
            b'{"maxResults": "ten"}',
            "application/json",
            "body.maxResults",
        ),
        ("jira-dc", "GET", "/rest/api/2/user/search", "maxResults=1.5", b"", None, "query.maxResults"),
    ],
)
def test_broken_requests_are_refused(
    name: str, method: str, path: str, query: str, body: bytes, ctype: str | None, expected: str
) -> None:
    errors = SpecValidator.for_vendor(name).validate(method, path, query, {}, body, ctype)
    assert errors, f"{method} {path} should be refused"
    assert any(expected in e for e in errors), errors


@pytest.mark.parametrize(
    ("name", "method", "path", "query", "body"),
    [
        (
            "zendesk",
            "PUT",
            "/api/v2/tickets/7",
            "",
            {
                "ticket": {
                    "comment": {"body": "note", "public": False, "uploads": ["tok"]},
                    "status": "hold",
                    "additional_tags": ["jira_escalated"],
                    "custom_fields": [{"id": 360001, "value": "ESCA-1"}],
                }
            },
        ),
        (
            "zendesk",
            "POST",
            "/api/v2/tickets",
            "",
            {"ticket": {"subject": "Cannot log in", "comment": {"body": "Hi"}, "requester_id": 5}},
        ),
        (
            "jira-cloud",
            "POST",
            "/rest/api/3/issue",
            "",
            {
                "fields": {
                    "project": {"key": "ESCA"},
                    "issuetype": {"id": "10001"},
                    "summary": "x",
                    "labels": ["escalink"],
                    "customfield_10100": "u1, u2",
                    "description": {"type": "doc", "version": 1, "content": []},
                }
            },
        ),
        (
            "jira-cloud",
            "POST",
            "/rest/api/3/search/jql",
            "",
            {"jql": "project = ESCA", "fields": ["summary"]},
        ),
        ("jira-cloud", "PUT", "/rest/api/3/issue/ESCA-1/properties/escalink", "", {"ticket": 7}),
        (
            "jira-dc",
            "POST",
            "/rest/api/2/issue",
            "updateHistory=false",
            {
                "fields": {
                    "project": {"key": "ESCA"},
                    "summary": "x",
                    "labels": ["escalink"],
                    "reporter": {"name": "ana"},
                    "customfield_10100": "u1",
                }
            },
        ),
        (
            "jira-dc",
            "POST",
            "/rest/api/2/issue/ESCA-1/remotelink",
            "",
            {
                "globalId": "zendesk:7",
                "object": {"url": "https://example.zendesk.com/agent/tickets/7", "title": "#7"},
            },
        ),
        ("jira-dc", "PUT", "/rest/api/2/issue/ESCA-1/properties/escalink", "", {"ticket": 7}),
        ("jira-dc", "POST", "/rest/api/2/search", "", {"jql": "project = ESCA", "maxResults": 10}),
    ],
)
def test_well_formed_requests_pass(name: str, method: str, path: str, query: str, body: Any) -> None:
    v = SpecValidator.for_vendor(name)
    assert v.validate(method, path, query, {}, json.dumps(body).encode(), "application/json") == []


def test_validate_httpx_multipart_and_raw_upload() -> None:
    cloud = SpecValidator.for_vendor("jira-cloud")
    ok = httpx.Request(
        "POST",
        "http://jira.test/rest/api/3/issue/ESCA-1/attachments",
        files={"file": ("shot.png", b"\x89PNG", "image/png")},
        headers={"X-Atlassian-Token": "no-check"},
    )
    assert cloud.validate_httpx(ok) == []
    no_file = httpx.Request("POST", "http://jira.test/rest/api/3/issue/ESCA-1/attachments", data={"a": "b"})
    assert cloud.validate_httpx(no_file)
    zendesk = SpecValidator.for_vendor("zendesk")
    upload = httpx.Request(
        "POST",
        "http://zd.test/api/v2/uploads",
        params={"filename": "app.log"},
        content=b"log line",
        headers={"Content-Type": "text/plain"},
    )
    assert zendesk.validate_httpx(upload) == []
    query = httpx.Request("GET", "http://zd.test/api/v2/tickets/show_many", params={"ids": "1,2"})
    assert zendesk.validate_httpx(query) == []


def test_nullable_is_understood() -> None:
    v = SpecValidator.for_vendor("zendesk")
    body = {"ticket": {"custom_fields": [{"id": 1, "value": None}]}}
    assert v.validate("PUT", "/api/v2/tickets/1", "", {}, json.dumps(body).encode(), "application/json") == []
