"""ZendeskHelpdesk: comments and attachments, pagination, the single update, safe downloads."""

from __future__ import annotations

import base64
import http.server
import json
import threading
from collections.abc import Iterator

import httpx
import pytest
from adapter_fakes import ZENDESK_BASE, FakeZendesk, Waits, zendesk_comment, zendesk_settings

from escalink.adapters.zendesk.client import Ticket, ZendeskHelpdesk
from escalink.domain.errors import NotFound, VendorAuthFailed
from escalink.domain.records import Attachment, TicketUpdate
from escalink.ports.helpdesk import Helpdesk

SCREENSHOT = {
    "id": 7001,
    "file_name": "screen.png",
    "content_url": f"{ZENDESK_BASE}/attachments/token/abc/?name=screen.png",
    "content_type": "image/png",
    "size": 2048,
    "inline": False,
    "thumbnails": [],
}
INLINE = {
    "id": 7002,
    "file_name": "pasted.jpg",
    "content_url": f"{ZENDESK_BASE}/attachments/token/def/?name=pasted.jpg",
    "content_type": "image/jpeg",
    "size": 512,
    "inline": True,
    "thumbnails": [],
}


def helpdesk(fake: FakeZendesk) -> ZendeskHelpdesk:
    return ZendeskHelpdesk.from_settings(zendesk_settings(), fake.transport(), sleep=Waits())


def test_implements_the_port_and_builds_agent_urls() -> None:
    h: Helpdesk = helpdesk(FakeZendesk())
    assert h.ticket_url(4242) == f"{ZENDESK_BASE}/agent/tickets/4242"


def test_comments_follow_cursor_pages_and_map_attachments() -> None:
    fake = FakeZendesk(
        comments=[
            zendesk_comment(1, "App crashes on login"),
            zendesk_comment(
                2, "Internal: member DOB on file", public=False, attachments=[SCREENSHOT, INLINE]
            ),
            zendesk_comment(3, "Any update?"),
            zendesk_comment(4, "Escalating"),
            zendesk_comment(5, "Thanks"),
        ]
    )
    comments = helpdesk(fake).list_comments(4242)
    assert [c.id for c in comments] == [1, 2, 3, 4, 5]
    assert len(fake.requests) == 3
    first = fake.requests[0]
    assert first.url.path == "/api/v2/tickets/4242/comments"
    assert first.url.params["include_inline_images"] == "true" and first.url.params["page[size]"] == "100"
    assert comments[1].public is False and comments[1].author_id == 902
    assert comments[1].attachments == (
        Attachment(7001, "screen.png", SCREENSHOT["content_url"], "image/png", 2048, inline=False),
        Attachment(7002, "pasted.jpg", INLINE["content_url"], "image/jpeg", 512, inline=True),
    )
    auth = "Basic " + base64.b64encode(b"escalink-bot@example.com/token:zd-token").decode()
    assert all(r.headers["Authorization"] == auth for r in fake.requests)


def test_offset_pagination_is_followed_too() -> None:
    pages = {
        None: {
            "comments": [zendesk_comment(1, "a")],
            "next_page": f"{ZENDESK_BASE}/api/v2/tickets/9/comments.json?page=2",
            "previous_page": None,
            "count": 2,
        },
        "2": {"comments": [zendesk_comment(2, "b")], "next_page": None, "previous_page": None, "count": 2},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[request.url.params.get("page")])

    h = ZendeskHelpdesk.from_settings(zendesk_settings(), httpx.MockTransport(handler))
    assert [c.body for c in h.list_comments(9)] == ["a", "b"]


def test_missing_ticket_is_not_found_and_bad_token_says_what_to_do() -> None:
    with pytest.raises(NotFound):
        helpdesk(FakeZendesk()).list_comments(404)
    h = ZendeskHelpdesk.from_settings(zendesk_settings(), httpx.MockTransport(lambda r: httpx.Response(401)))
    with pytest.raises(VendorAuthFailed, match="ESCALINK_ZENDESK_API_TOKEN"):
        h.get_ticket(1)


def test_update_is_one_put_with_note_status_tags_and_fields() -> None:
    fake = FakeZendesk()
    helpdesk(fake).update_ticket(
        4242,
        TicketUpdate(
            internal_note="Escalated to ESCA-101",
            status="hold",
            add_tags=("jira_escalated",),
            custom_fields={360001: "ESCA-101"},
        ),
    )
    (req,) = fake.requests
    assert (req.method, req.url.path) == ("PUT", "/api/v2/tickets/4242")
    assert json.loads(req.content) == {
        "ticket": {
            "comment": {"body": "Escalated to ESCA-101", "public": False},
            "status": "hold",
            "additional_tags": ["jira_escalated"],
            "custom_fields": [{"id": 360001, "value": "ESCA-101"}],
        }
    }


def test_update_with_a_note_is_not_repeated_after_a_lost_answer() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(504)

    h = ZendeskHelpdesk.from_settings(zendesk_settings(), httpx.MockTransport(handler), sleep=Waits())
    with pytest.raises(Exception, match="try again"):
        h.update_ticket(1, TicketUpdate(internal_note="note"))
    assert len(calls) == 1


def test_get_ticket() -> None:
    assert helpdesk(FakeZendesk()).get_ticket(77) == Ticket(77, "Cannot log in", "open", ("vip", "app"))


# -- downloads over real loopback HTTP: Zendesk on 127.0.0.1, the file host on "localhost" ------


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str | None]] = []
    cdn = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        host = self.headers["Host"].split(":")[0]
        self.seen.append((host, self.path, self.headers.get("Authorization")))
        if self.path.startswith("/attachments/"):
            self.send_response(302)
            self.send_header("Location", f"{self.cdn}/files/screen.png?sig=xyz")
            self.end_headers()
        else:
            body = b"\x89PNG loopback bytes"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[int]:
    _Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    port = server.server_address[1]
    _Recorder.cdn = f"http://localhost:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    server.server_close()


def test_download_follows_the_redirect_without_sending_credentials_elsewhere(loopback: int) -> None:
    settings = zendesk_settings(zendesk_url=f"http://127.0.0.1:{loopback}")
    h = ZendeskHelpdesk.from_settings(settings)
    content = h.download_attachment(f"http://127.0.0.1:{loopback}/attachments/token/abc/?name=screen.png")
    h.close()
    assert content == b"\x89PNG loopback bytes"
    (zd_host, _, zd_auth), (cdn_host, cdn_path, cdn_auth) = _Recorder.seen
    assert zd_host == "127.0.0.1" and zd_auth is not None and zd_auth.startswith("Basic ")
    assert cdn_host == "localhost" and cdn_path == "/files/screen.png?sig=xyz" and cdn_auth is None


def test_download_from_a_foreign_host_never_gets_credentials(loopback: int) -> None:
    h = ZendeskHelpdesk.from_settings(zendesk_settings(zendesk_url=f"http://127.0.0.1:{loopback}"))
    assert h.download_attachment(f"http://localhost:{loopback}/files/screen.png") == b"\x89PNG loopback bytes"
    h.close()
    assert _Recorder.seen == [("localhost", "/files/screen.png", None)]
