"""Zendesk emulator: auth, error shapes, update semantics, attachments."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from escalink.sandbox.contract import SpecValidator
from escalink.sandbox.recorder import CallRecorder
from escalink.sandbox.runner import Emulators
from escalink.sandbox.zendesk_state import ZendeskState

SPEC = SpecValidator.for_vendor("zendesk")


def test_bad_credentials_get_401(zendesk: TestClient, zstate: ZendeskState) -> None:
    for auth in [
        ("escalink@example.com/token", "wrong"),
        ("escalink@example.com", zstate.api_token),
        ("rosalind.quarry@example.net/token", zstate.api_token),
    ]:
        r = zendesk.get("/api/v2/users/me", auth=auth)
        assert r.status_code == 401
        assert r.json() == {"error": "Couldn't authenticate you"}


def test_not_found_shape(zendesk: TestClient) -> None:
    r = zendesk.get("/api/v2/tickets/999999")
    assert r.status_code == 404
    assert r.json() == {"error": "RecordNotFound", "description": "Not found"}


def test_spec_violation_is_400_and_changes_nothing(
    zendesk: TestClient, zstate: ZendeskState, recorder: CallRecorder
) -> None:
    before = list(zstate.tickets[101].tags)
    r = zendesk.put("/api/v2/tickets/101", json={"ticket": {"tags": "not-a-list", "additional_tags": ["x"]}})
    assert r.status_code == 400
    assert r.json()["error"] == "InvalidRequest"
    assert zstate.tickets[101].tags == before
    assert recorder.calls("zendesk")[-1].spec_errors


def test_hold_with_internal_note_tags_and_fields(zendesk: TestClient, zstate: ZendeskState) -> None:
    up = zendesk.post(
        "/api/v2/uploads",
        params={"filename": "note.txt"},
        content=b"hello",
        headers={"Content-Type": "text/plain"},
    )
    assert up.status_code == 201
    token = up.json()["upload"]["token"]
    body = {
        "ticket": {
            "status": "hold",
            "additional_tags": ["jira_escalated"],
            "remove_tags": ["sandbox"],
            "custom_fields": [{"id": 360001, "value": "ESCA-7"}],
            "comment": {"body": "Escalated to ESCA-7", "public": False, "uploads": [token]},
        }
    }
    r = zendesk.put("/api/v2/tickets/101", json=body)
    assert r.status_code == 200, r.text
    assert SPEC.validate_response("PUT", "/api/v2/tickets/101", 200, r.content) == []
    ticket = zendesk.get("/api/v2/tickets/101").json()["ticket"]
    assert ticket["status"] == "hold"
    assert ticket["tags"] == ["jira_escalated"]
    assert {"id": 360001, "value": "ESCA-7"} in ticket["custom_fields"]
    last = zendesk.get("/api/v2/tickets/101/comments").json()["comments"][-1]
    assert last["public"] is False and last["body"] == "Escalated to ESCA-7"
    assert [a["file_name"] for a in last["attachments"]] == ["note.txt"]
    # an upload token is consumed by the update that uses it
    again = zendesk.put(
        "/api/v2/tickets/101", json={"ticket": {"comment": {"body": "x", "uploads": [token]}}}
    )
    assert again.status_code == 422


def test_tags_replace(zendesk: TestClient) -> None:
    zendesk.put("/api/v2/tickets/102", json={"ticket": {"tags": ["a", "b", "a"]}})
    assert zendesk.get("/api/v2/tickets/102").json()["ticket"]["tags"] == ["a", "b"]


def test_closed_ticket_refuses_updates(zendesk: TestClient, zstate: ZendeskState) -> None:
    r = zendesk.put("/api/v2/tickets/125", json={"ticket": {"comment": {"body": "hi", "public": False}}})
    assert r.status_code == 422
    assert r.json()["error"] == "RecordInvalid"
    assert len(zstate.tickets[125].comments) == 1


def test_unknown_status_is_422_record_invalid(zendesk: TestClient) -> None:
    r = zendesk.put("/api/v2/tickets/101", json={"ticket": {"status": "escalated"}})
    assert r.status_code == 422
    assert r.json()["details"]["status"][0]["description"]


def test_inline_images_only_on_request(zendesk: TestClient) -> None:
    plain = zendesk.get("/api/v2/tickets/103/comments").json()["comments"][0]["attachments"]
    assert plain == []
    inline = zendesk.get("/api/v2/tickets/103/comments", params={"include_inline_images": "true"}).json()
    atts = inline["comments"][0]["attachments"]
    assert len(atts) == 1 and atts[0]["inline"] is True


def test_show_many_and_create(zendesk: TestClient) -> None:
    r = zendesk.get("/api/v2/tickets/show_many", params={"ids": "101,102,424242"})
    assert [t["id"] for t in r.json()["tickets"]] == [101, 102]
    created = zendesk.post(
        "/api/v2/tickets",
        json={"ticket": {"subject": "New", "comment": {"body": "Hi"}, "requester_id": 2001}},
    )
    assert created.status_code == 201
    assert SPEC.validate_response("POST", "/api/v2/tickets", 201, created.content) == []


def test_attachment_bytes_over_loopback(live: Emulators) -> None:
    auth = (f"{live.zendesk_email}/token", live.zendesk_api_token)
    with httpx.Client(base_url=live.zendesk_url, auth=auth, timeout=5) as client:
        meta = client.get("/api/v2/attachments/5001")
        assert meta.status_code == 200
        url = meta.json()["attachment"]["content_url"]
        assert url.startswith(live.zendesk_url + "/attachments/token/")
        content = client.get(url)
        assert content.content.startswith(b"\x89PNG")
        assert content.headers["content-type"] == "image/png"
        mark = live.recorder.mark()
        assert client.get("/api/v2/tickets/101/comments").status_code == 200
        assert live.recorder.count("zendesk", "GET", "/api/v2/tickets/101/comments", since=mark) == 1
        calls = client.get("/_sandbox/calls", params={"vendor": "zendesk"}).json()
        assert calls[-1]["path"] == "/api/v2/tickets/101/comments"
