"""Fault injection in the emulators: rule matching, seeded rates, limits, vendor shapes, hangs and drops."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from escalink.adapters.vendor_answers import parse_rate_limit_reset, requested_wait
from escalink.sandbox.faults import FaultPlan, FaultRule
from escalink.sandbox.jira_state import BUG
from escalink.sandbox.runner import Emulators, start_emulators

CREATE = "/rest/api/3/issue"


@pytest.fixture(scope="module")
def emulators() -> Iterator[Emulators]:
    with start_emulators() as e:
        yield e


@pytest.fixture
def live(emulators: Emulators) -> Iterator[Emulators]:
    emulators.faults.set([], seed=0)
    yield emulators
    emulators.faults.clear()


def zendesk(e: Emulators, timeout: float = 5.0) -> httpx.Client:
    return httpx.Client(base_url=e.zendesk_url, auth=(f"{e.zendesk_email}/token", e.zendesk_api_token), timeout=timeout)


def jira(e: Emulators, timeout: float = 5.0) -> httpx.Client:
    return httpx.Client(base_url=e.jira_url, auth=(e.jira_cloud_email, e.jira_cloud_api_token), timeout=timeout)


def jira_dc(e: Emulators) -> httpx.Client:
    return httpx.Client(base_url=e.jira_url, headers={"Authorization": f"Bearer {e.jira_dc_pat}"}, timeout=5.0)


def adf(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


def cloud_bug(e: Emulators) -> dict[str, Any]:
    reporter = next(u for u in e.jira_state.users if u.email == "dana.whitfield@example.com")
    return {
        "fields": {
            "project": {"key": "ESCA"},
            "issuetype": {"id": BUG},
            "summary": "App closes after login",
            "description": adf("details"),
            "reporter": {"accountId": reporter.account_id},
            "priority": {"name": "Critical"},
            "labels": ["escalink"],
            "customfield_10100": "a7251b24-8335-4727-a9cb-c9263a369ce1",
            "customfield_10101": adf("1. Open app\n2. Log in"),
            "customfield_10102": adf("Expected x"),
            "customfield_10103": {"value": "High"},
            "customfield_10104": {"value": "iOS"},
        }
    }


# -- deciding -----------------------------------------------------------------------------------


def test_rules_match_by_vendor_method_and_path() -> None:
    glob = FaultRule(kind="500", vendor="jira-cloud", method="post", path="/rest/api/3/issue*")
    assert glob.matches("jira-cloud", "POST", "/rest/api/3/issue")
    assert glob.matches("jira-cloud", "POST", "/rest/api/3/issue/ESCA-1/comment")  # "*" crosses "/"
    assert not glob.matches("jira-dc", "POST", "/rest/api/3/issue")
    assert not glob.matches("jira-cloud", "GET", "/rest/api/3/issue")
    assert not glob.matches("jira-cloud", "POST", "/rest/api/3/search/jql")

    regex = FaultRule(kind="503", vendor="jira", path=r"^/rest/api/\d/issue$")
    assert regex.matches("jira-cloud", "GET", "/rest/api/3/issue")
    assert regex.matches("jira-dc", "PUT", "/rest/api/2/issue")
    assert not regex.matches("jira-dc", "PUT", "/rest/api/2/issue/ESCA-1")
    assert not regex.matches("zendesk", "GET", "/rest/api/2/issue")

    anything = FaultRule(kind="drop")
    assert anything.matches("zendesk", "DELETE", "/api/v2/tickets/1")

    with pytest.raises(ValueError, match="regular expression"):
        FaultRule(kind="500", path="^/api/(")
    assert FaultRule.model_validate({"kind": 429}).kind == "429"  # JSON files may give a number


def test_first_firing_rule_decides() -> None:
    plan = FaultPlan(
        [
            FaultRule(kind="503", vendor="zendesk", rate=0.0),
            FaultRule(kind="500", vendor="zendesk", path="/api/v2/tickets/*"),
            FaultRule(kind="429", vendor="*"),
        ]
    )
    first = plan.decide("zendesk", "GET", "/api/v2/tickets/7")
    assert first is not None and first.kind == "500"
    other = plan.decide("jira-dc", "GET", "/rest/api/2/myself")
    assert other is not None and other.kind == "429" and other.retry_after == 1
    assert [r["matched"] for r in plan.snapshot()["rules"]] == [1, 1, 1]


def _pattern(plan: FaultPlan, n: int = 200) -> list[bool]:
    return [plan.decide("zendesk", "GET", f"/api/v2/tickets/{i}") is not None for i in range(n)]


def test_rates_are_deterministic_for_a_seed() -> None:
    rule = FaultRule(kind="503", vendor="zendesk", rate=0.3)
    a, b = _pattern(FaultPlan([rule], seed=7)), _pattern(FaultPlan([rule], seed=7))
    assert a == b
    assert 40 <= sum(a) <= 80  # about 30 % of 200
    assert _pattern(FaultPlan([rule], seed=8)) != a
    # Another rule's traffic does not shift this rule's dice.
    busy = FaultPlan([FaultRule(kind="500", vendor="jira", rate=0.5), rule], seed=7)
    busy_pattern = []
    for i in range(200):
        busy.decide("jira-cloud", "GET", "/rest/api/3/myself")
        busy_pattern.append(busy.decide("zendesk", "GET", f"/api/v2/tickets/{i}") is not None)
    assert busy_pattern == _pattern(FaultPlan([FaultRule(kind="500", vendor="jira", rate=0.5), rule], seed=7))
    assert all(_pattern(FaultPlan([rule.model_copy(update={"rate": 1.0})]), 20))
    assert not any(_pattern(FaultPlan([rule.model_copy(update={"rate": 0.0})]), 20))


def test_count_limits_the_first_matching_requests() -> None:
    plan = FaultPlan([FaultRule(kind="500", method="POST", path=CREATE, count=2)])
    assert plan.decide("jira-cloud", "GET", CREATE) is None  # does not match: does not count
    assert [plan.decide("jira-cloud", "POST", CREATE) is not None for _ in range(4)] == [True, True, False, False]
    sampled = FaultPlan([FaultRule(kind="500", rate=0.5, count=10)], seed=3)
    fired = _pattern(sampled, 50)
    assert not any(fired[10:]) and 0 < sum(fired[:10]) < 10
    assert sampled.snapshot()["rules"][0] | {"matched": 10, "active": False} == sampled.snapshot()["rules"][0]


def test_storm_answers_429_until_it_ends() -> None:
    now = [100.0]
    plan = FaultPlan([FaultRule(kind="500", vendor="jira-cloud")], clock=lambda: now[0])
    plan.storm("jira", seconds=5)
    first = plan.decide("jira-cloud", "GET", "/rest/api/3/myself")
    assert first is not None and first.kind == "429" and first.retry_after == 5  # storm goes first
    assert plan.decide("zendesk", "GET", "/api/v2/users/me") is None
    now[0] = 103.5
    later = plan.decide("jira-dc", "GET", "/rest/api/2/myself")
    assert later is not None and later.retry_after == 2  # the time left, rounded up
    now[0] = 105.0
    after = plan.decide("jira-cloud", "GET", "/rest/api/3/myself")
    assert after is not None and after.kind == "500"  # storm over; the other rule applies again
    plan.storm("zendesk", seconds=60, retry_after=7)
    fixed = plan.decide("zendesk", "GET", "/api/v2/users/me")
    assert fixed is not None and fixed.retry_after == 7


def test_plan_loads_from_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    rules = [{"vendor": "zendesk", "path": "/api/v2/tickets/*/comments", "kind": "503", "rate": 0.2}]
    path.write_text(json.dumps({"seed": 11, "rules": rules}))
    plan = FaultPlan.load(path)
    assert plan.seed == 11 and plan.rules()[0].rate == 0.2
    path.write_text(json.dumps([{"kind": "bogus"}]))
    with pytest.raises(ValueError):
        FaultPlan.load(path)


# -- answering, over real HTTP -------------------------------------------------------------------


def test_jira_429_carries_retry_after_and_rate_limit_reset(live: Emulators) -> None:
    live.faults.add(FaultRule(kind="429", vendor="jira", path="*/myself", retry_after=3))
    for client, api in ((jira(live), "/rest/api/3"), (jira_dc(live), "/rest/api/2")):
        with client:
            resp = client.get(f"{api}/myself")
        now = datetime.now(UTC)
        assert resp.status_code == 429
        assert resp.json() == {"errorMessages": ["Rate limit exceeded."], "errors": {}}
        assert resp.headers["Retry-After"] == "3"
        reset = resp.headers["X-RateLimit-Reset"]
        assert len(reset) == len("2024-05-08T15:52Z") and reset.endswith("Z")
        until_reset = parse_rate_limit_reset(reset, now)
        assert until_reset is not None and until_reset <= 3
        assert requested_wait(resp, now) == 3.0  # what Escalink's client will wait
    calls = live.recorder.calls("jira")
    assert [(c.status, c.fault) for c in calls[-2:]] == [(429, "429"), (429, "429")]


def test_zendesk_429_is_the_documented_plain_sentence(live: Emulators) -> None:
    live.faults.add(FaultRule(kind="429", vendor="zendesk"))
    with zendesk(live) as z:
        resp = z.get("/api/v2/users/me")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "1"
    assert resp.headers["content-type"].startswith("text/html") and "exceeded" in resp.text
    assert "X-RateLimit-Reset" not in resp.headers


def test_500_and_503_shapes(live: Emulators) -> None:
    live.faults.set(
        [
            FaultRule(kind="500", vendor="jira-dc"),
            FaultRule(kind="503", vendor="jira-cloud", retry_after=4),
            FaultRule(kind="503", vendor="zendesk", path="/api/v2/users/me"),
            FaultRule(kind="500", vendor="zendesk"),
        ]
    )
    with jira_dc(live) as dc, jira(live) as cloud, zendesk(live) as z:
        r500 = dc.get("/rest/api/2/serverInfo")
        r503 = cloud.get("/rest/api/3/serverInfo")
        z503 = z.get("/api/v2/users/me")
        z500 = z.get("/api/v2/tickets/101")
    assert r500.status_code == 500 and r500.json()["errorMessages"] and "Retry-After" not in r500.headers
    assert r503.status_code == 503 and r503.headers["Retry-After"] == "4" and r503.json()["errors"] == {}
    assert z503.status_code == 503 and z503.json()["error"] == "ServiceUnavailable"
    assert "Retry-After" not in z503.headers  # a bare 503: nothing tells the client it may repeat a create
    assert z500.status_code == 500 and z500.json()["error"] == "InternalServerError"


def test_faulted_requests_change_nothing(live: Emulators) -> None:
    live.faults.add(FaultRule(kind="429", method="POST", path=CREATE, count=1))
    live.faults.add(FaultRule(kind="503", method="PUT", path="/api/v2/tickets/*", count=1, retry_after=1))
    live.faults.add(FaultRule(kind="drop", method="POST", path=CREATE, count=1))
    issues = len(live.jira_state.issues)
    ticket = live.zendesk_state.tickets[102]
    status, comments = ticket.status, len(ticket.comments)
    update = {"ticket": {"status": "hold", "comment": {"body": "Escalated", "public": False}}}
    with jira(live) as j, zendesk(live) as z:
        assert j.post(CREATE, json=cloud_bug(live)).status_code == 429
        with pytest.raises(httpx.RemoteProtocolError):
            j.post(CREATE, json=cloud_bug(live))
        assert z.put("/api/v2/tickets/102", json=update).status_code == 503
        assert len(live.jira_state.issues) == issues
        assert (ticket.status, len(ticket.comments)) == (status, comments)
        assert j.post(CREATE, json=cloud_bug(live)).status_code == 201  # the limits are used up
        assert z.put("/api/v2/tickets/102", json=update).status_code == 200
    assert len(live.jira_state.issues) == issues + 1 and ticket.status == "hold"


def test_faulted_call_is_still_checked_and_recorded(live: Emulators) -> None:
    live.faults.add(FaultRule(kind="503", vendor="zendesk"))
    mark = live.recorder.mark()
    with httpx.Client(base_url=live.zendesk_url) as anonymous:
        resp = anonymous.put("/api/v2/tickets/101", json={"ticket": {"status": "nonsense"}})
    assert resp.status_code == 503  # the outage answers before authentication would
    (call,) = live.recorder.since(mark)
    assert (call.status, call.fault, call.method) == (503, "503", "PUT")


def test_hang_outlasts_a_short_client_timeout(live: Emulators) -> None:
    live.faults.add(FaultRule(kind="hang", vendor="zendesk", path="/api/v2/tickets/101", hang_seconds=1.5, count=1))
    mark = live.recorder.mark()
    with zendesk(live, timeout=0.5) as z:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            z.get("/api/v2/tickets/101")
        assert 0.45 <= time.monotonic() - started < 1.4
        assert z.get("/api/v2/tickets/101").status_code == 200  # count=1: the next one is answered
    hung, answered = live.recorder.since(mark)
    assert (hung.status, hung.fault) == (0, "hang") and (answered.status, answered.fault) == (200, None)


def test_hang_then_answer_takes_effect_after_the_client_gave_up(live: Emulators) -> None:
    live.faults.add(FaultRule(kind="hang", method="POST", path=CREATE, hang_seconds=0.6, then="answer", count=1))
    issues = len(live.jira_state.issues)
    with jira(live, timeout=0.2) as j, pytest.raises(httpx.ReadTimeout):
        j.post(CREATE, json=cloud_bug(live))
    assert len(live.jira_state.issues) == issues  # not yet
    deadline = time.monotonic() + 3
    while len(live.jira_state.issues) == issues and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(live.jira_state.issues) == issues + 1  # the slow vendor did create it
    created = [c for c in live.recorder.calls("jira-cloud") if c.path == CREATE][-1]
    assert (created.status, created.fault) == (201, "hang")


def test_clearing_the_plan_ends_a_hang(live: Emulators) -> None:
    live.faults.add(FaultRule(kind="hang", vendor="zendesk", hang_seconds=30, then="answer"))
    threading.Timer(0.3, live.faults.clear).start()
    with zendesk(live, timeout=10) as z:
        started = time.monotonic()
        resp = z.get("/api/v2/users/me")
    assert resp.status_code == 200 and time.monotonic() - started < 2


def test_drop_closes_the_connection_without_an_answer(live: Emulators) -> None:
    live.faults.add(FaultRule(kind="drop", vendor="jira-dc", count=1))
    mark = live.recorder.mark()
    with jira_dc(live) as dc:
        with pytest.raises(httpx.RemoteProtocolError):
            dc.get("/rest/api/2/myself")
        assert dc.get("/rest/api/2/myself").status_code == 200  # the client simply reconnects
    dropped, answered = live.recorder.since(mark)
    assert (dropped.status, dropped.fault) == (0, "drop") and answered.status == 200


# -- the control endpoint -------------------------------------------------------------------------


def test_control_endpoint_replaces_shows_and_clears_the_shared_plan(live: Emulators) -> None:
    rules = [{"vendor": "jira-cloud", "method": "GET", "path": "/rest/api/3/myself", "kind": 503, "retry_after": 2}]
    with httpx.Client(timeout=5) as http, jira(live) as j:
        put = http.post(f"{live.zendesk_url}/_sandbox/faults", json=rules)  # set on Zendesk, applies to Jira
        assert put.status_code == 200 and put.json()["rules"][0]["kind"] == "503"
        assert j.get("/rest/api/3/myself").status_code == 503
        shown = http.get(f"{live.jira_url}/_sandbox/faults").json()
        assert shown["rules"][0] | {"matched": 1, "fired": 1, "active": True} == shown["rules"][0]

        bad = http.post(f"{live.jira_url}/_sandbox/faults", json=[{"kind": "418"}])
        assert bad.status_code == 400 and bad.json()["error"] == "InvalidFaults"
        assert http.post(f"{live.jira_url}/_sandbox/faults", content=b"{not json").status_code == 400
        assert len(live.faults.rules()) == 1  # a refused plan leaves the old one in place

        seeded = http.post(f"{live.jira_url}/_sandbox/faults", json={"seed": 42, "rules": []})
        assert seeded.json() == {"seed": 42, "rules": [], "hanging": 0}
        live.faults.set([FaultRule(kind="500")])
        assert http.delete(f"{live.jira_url}/_sandbox/faults").status_code == 204
        assert live.faults.rules() == [] and j.get("/rest/api/3/myself").status_code == 200
        assert http.get(f"{live.jira_url}/_sandbox/calls").status_code == 200  # other sandbox routes unaffected
