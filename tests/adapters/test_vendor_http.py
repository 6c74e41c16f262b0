"""VendorHTTP: retries, Retry-After / X-RateLimit-Reset, non-idempotent safety, error mapping, logging."""

from __future__ import annotations

import email.utils
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import structlog
from adapter_fakes import Waits
from hypothesis import given, settings
from hypothesis import strategies as st

from escalink.adapters.http import VendorHTTP, VendorProfile
from escalink.adapters.vendor_answers import parse_rate_limit_reset, parse_retry_after
from escalink.domain.errors import (
    NotFound,
    VendorAuthFailed,
    VendorPermissionDenied,
    VendorRejected,
    VendorUnavailable,
)

NOW = datetime(2024, 5, 8, 15, 50, 0, tzinfo=UTC)
PROFILE = VendorProfile("jira", "Jira", "ask an admin to check Escalink's Jira credentials")
Answer = Callable[[httpx.Request], httpx.Response]


def scripted(*answers: httpx.Response | Exception) -> tuple[list[httpx.Request], Answer]:
    """A handler answering with `answers` in order (an exception is raised instead of answering)."""
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return seen, handler


def make(
    handler: Answer, waits: Waits, *, attempts: int = 4, cap: float = 60.0, jitter: float = 0.25
) -> VendorHTTP:
    return VendorHTTP(
        "https://jira.example.com",
        profile=PROFILE,
        auth=None,
        timeout=5,
        max_attempts=attempts,
        max_retry_wait=cap,
        transport=httpx.MockTransport(handler),
        sleep=waits,
        clock=lambda: NOW,
        jitter=lambda max_jitter: jitter,
    )


def ok() -> httpx.Response:
    return httpx.Response(200, json={"ok": True})


def test_429_retry_after_seconds_is_honoured_plus_jitter_only() -> None:
    waits = Waits()
    seen, handler = scripted(httpx.Response(429, headers={"Retry-After": "7"}), ok())
    assert make(handler, waits).request("GET", "/rest/api/3/myself").status_code == 200
    assert len(seen) == 2
    assert waits.calls == [7.25]


def test_retry_after_http_date() -> None:
    waits = Waits()
    date = email.utils.format_datetime(NOW + timedelta(seconds=30), usegmt=True)
    _, handler = scripted(httpx.Response(503, headers={"Retry-After": date}), ok())
    make(handler, waits).request("GET", "/x")
    assert waits.calls == [30.25]


def test_jira_rate_limit_reset_iso8601_and_the_longer_wait_wins() -> None:
    waits = Waits()
    headers = {"Retry-After": "5", "X-RateLimit-Reset": "2024-05-08T15:50:40Z"}
    _, handler = scripted(httpx.Response(429, headers=headers), ok())
    make(handler, waits).request("GET", "/x")
    assert waits.calls == [40.25]


def test_jitter_never_pushes_past_the_cap_but_never_below_the_ask() -> None:
    waits = Waits()
    _, handler = scripted(httpx.Response(429, headers={"Retry-After": "59.9"}), ok())
    make(handler, waits, cap=60.0, jitter=5.0).request("GET", "/x")
    assert waits.calls == [pytest.approx(60.0)]


def test_ask_beyond_cap_stops_at_once_with_retry_after() -> None:
    waits = Waits()
    seen, handler = scripted(httpx.Response(429, headers={"Retry-After": "600"}), ok())
    with pytest.raises(VendorUnavailable) as err:
        make(handler, waits, cap=120).request("GET", "/x")
    assert err.value.retry_after == 600
    assert "600 seconds" in err.value.message
    assert len(seen) == 1 and waits.calls == []


def test_attempts_are_capped_and_the_last_answer_is_mapped() -> None:
    waits = Waits()
    seen, handler = scripted(httpx.Response(429, headers={"Retry-After": "2"}))
    with pytest.raises(VendorUnavailable) as err:
        make(handler, waits, attempts=3).request("GET", "/x")
    assert len(seen) == 3 and len(waits.calls) == 2
    assert err.value.retry_after == 2 and "try again in 2 seconds" in err.value.message


def test_exponential_backoff_without_a_header() -> None:
    waits = Waits()
    _, handler = scripted(httpx.Response(502), httpx.Response(504), ok())
    make(handler, waits, jitter=0.0).request("GET", "/x")
    assert waits.calls == [0.5, 1.0]


@pytest.mark.parametrize("status", [500, 502, 504])
def test_create_is_not_repeated_after_a_server_error(status: int) -> None:
    waits = Waits()
    seen, handler = scripted(httpx.Response(status), ok())
    with pytest.raises(VendorUnavailable):
        make(handler, waits).request("POST", "/rest/api/3/issue", json={"fields": {}})
    assert len(seen) == 1 and waits.calls == []


def test_500_is_not_retried_even_for_reads() -> None:
    seen, handler = scripted(httpx.Response(500), ok())
    with pytest.raises(VendorUnavailable):
        make(handler, Waits()).request("GET", "/x")
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("answer", "retried"),
    [
        (httpx.Response(429), True),
        (httpx.Response(503, headers={"Retry-After": "3"}), True),
        (httpx.Response(503), False),
        (httpx.ConnectError("refused"), True),
        (httpx.ConnectTimeout("slow connect"), True),
        (httpx.ReadTimeout("slow answer"), False),
        (httpx.RemoteProtocolError("dropped"), False),
    ],
)
def test_create_is_repeated_only_when_the_answer_proves_it_was_not_processed(
    answer: httpx.Response | Exception, retried: bool
) -> None:
    seen, handler = scripted(answer, ok())
    http = make(handler, Waits())
    if retried:
        assert http.request("POST", "/rest/api/3/issue", json={}).status_code == 200
        assert len(seen) == 2
    else:
        with pytest.raises(VendorUnavailable):
            http.request("POST", "/rest/api/3/issue", json={})
        assert len(seen) == 1


def test_read_timeout_on_a_create_tells_the_agent_to_check_first() -> None:
    _, handler = scripted(httpx.ReadTimeout("slow"))
    with pytest.raises(VendorUnavailable) as err:
        make(handler, Waits()).request("POST", "/rest/api/3/issue", json={})
    assert "cannot tell" in err.value.message and "duplicate" in err.value.message


def test_reads_are_retried_after_timeouts_and_connect_errors() -> None:
    seen, handler = scripted(httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), ok())
    assert make(handler, Waits()).request("GET", "/x").status_code == 200
    assert len(seen) == 3


def test_caller_can_declare_a_post_idempotent_and_a_put_not() -> None:
    seen, handler = scripted(httpx.Response(502), ok())
    make(handler, Waits()).request("POST", "/remotelink", json={}, idempotent=True)
    assert len(seen) == 2
    seen, handler = scripted(httpx.Response(502), ok())
    with pytest.raises(VendorUnavailable):
        make(handler, Waits()).request("PUT", "/api/v2/tickets/1", json={}, idempotent=False)
    assert len(seen) == 1


JIRA_400 = {"errorMessages": ["Bad request"], "errors": {"customfield_10053": "Option 'Urgent' is not valid"}}
ZENDESK_422 = {
    "error": "RecordInvalid",
    "description": "Record validation errors",
    "details": {
        "status": [{"description": "Status: closed prevents ticket update", "error": "InvalidValue"}]
    },
}


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (401, {}, VendorAuthFailed, "ask an admin to check Escalink's Jira credentials"),
        (403, {}, VendorPermissionDenied, "permission"),
        (404, {"errorMessages": ["Issue does not exist"]}, NotFound, "could not find"),
        (400, JIRA_400, VendorRejected, "customfield_10053: Option 'Urgent' is not valid"),
        (422, ZENDESK_422, VendorRejected, "status: Status: closed prevents ticket update"),
        (409, {}, VendorRejected, "HTTP 409"),
        (500, {}, VendorUnavailable, "try again"),
        (503, {}, VendorUnavailable, "try again"),
    ],
)
def test_error_mapping(status: int, body: dict, error: type[Exception], words: str) -> None:
    _, handler = scripted(httpx.Response(status, json=body))
    with pytest.raises(error) as err:
        make(handler, Waits(), attempts=1).request("GET", "/x")
    assert words in err.value.message  # type: ignore[attr-defined]


def test_field_errors_become_problems() -> None:
    _, handler = scripted(httpx.Response(400, json=JIRA_400))
    with pytest.raises(VendorRejected) as err:
        make(handler, Waits()).request("POST", "/x", json={})
    assert [(p.field, p.message) for p in err.value.problems] == [
        ("customfield_10053", "Option 'Urgent' is not valid"),
        ("", "Bad request"),
    ]
    _, handler = scripted(httpx.Response(422, json=ZENDESK_422))
    with pytest.raises(VendorRejected) as err:
        make(handler, Waits()).request("PUT", "/x", json={})
    assert [(p.field, p.code) for p in err.value.problems] == [("status", "InvalidValue")]


def test_logs_carry_no_body() -> None:
    _, handler = scripted(
        httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(400, json=JIRA_400)
    )
    with structlog.testing.capture_logs() as logs, pytest.raises(VendorRejected):
        make(handler, Waits()).request(
            "POST",
            "/rest/api/3/issue?x=member@example.com",
            json={"fields": {"description": "DOB 1970-01-01 PHI-MARKER"}},
        )
    assert logs and all("PHI-MARKER" not in repr(e) and "member@example.com" not in repr(e) for e in logs)
    requests = [e for e in logs if e["event"] == "vendor_request"]
    assert [(e["method"], e["path"], e["status"], e["attempt"]) for e in requests] == [
        ("POST", "/rest/api/3/issue", 429, 1),
        ("POST", "/rest/api/3/issue", 400, 2),
    ]


def test_parsers() -> None:
    assert parse_retry_after("120", NOW) == 120
    assert parse_retry_after(" 1.5 ", NOW) == 1.5
    assert parse_retry_after("-3", NOW) == 0
    assert parse_retry_after("Wed, 08 May 2024 15:51:00 GMT", NOW) == 60
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after("nan", NOW) is None
    assert parse_rate_limit_reset("2024-05-08T15:52Z", NOW) == 120
    assert parse_rate_limit_reset("2024-05-08T15:49:00.000+0000", NOW) == 0
    assert parse_rate_limit_reset("1715183520", NOW) is None


@settings(max_examples=60, deadline=None)
@given(
    asked=st.integers(min_value=0, max_value=400),
    as_date=st.booleans(),
    jitter=st.floats(min_value=0, max_value=3),
)
def test_never_sleeps_less_than_asked_and_never_beyond_the_cap(
    asked: int, as_date: bool, jitter: float
) -> None:
    cap = 120.0
    value = (
        email.utils.format_datetime(NOW + timedelta(seconds=asked), usegmt=True) if as_date else str(asked)
    )
    waits = Waits()
    seen, handler = scripted(httpx.Response(429, headers={"Retry-After": value}), ok())
    http = make(handler, waits, cap=cap, jitter=jitter)
    if asked > cap:
        with pytest.raises(VendorUnavailable) as err:
            http.request("POST", "/x", json={})
        assert err.value.retry_after is not None and err.value.retry_after >= asked
        assert waits.calls == [] and len(seen) == 1
    else:
        http.request("POST", "/x", json={})
        assert len(waits.calls) == 1
        assert asked <= waits.calls[0] <= max(cap, asked)
        assert waits.calls[0] <= asked + jitter + 1e-9


# -- real HTTP on loopback -------------------------------------------------------------------


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.hits.append(self.path)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(0.6)
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[str]:
    _SlowHandler.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_real_read_timeout_on_a_create_is_not_repeated(slow_server: str) -> None:
    waits = Waits()
    http = VendorHTTP(
        slow_server, profile=PROFILE, auth=None, timeout=0.2, max_attempts=4, max_retry_wait=60, sleep=waits
    )
    with pytest.raises(VendorUnavailable) as err:
        http.request("POST", "/rest/api/3/issue", json={"fields": {"summary": "x"}})
    http.close()
    assert _SlowHandler.hits == ["/rest/api/3/issue"]
    assert waits.calls == []
    assert "cannot tell" in err.value.message
