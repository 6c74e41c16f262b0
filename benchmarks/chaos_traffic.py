"""Traffic of a chaos run: escalations through Escalink's API, and Jira replies with their webhooks.

Both keep going across Escalink's deaths: a request that fails on the connection (or with 429 or
5xx) is sent again, unchanged, once Escalink answers again. Escalations carry `Idempotency-Key:
chaos-<ticket>`, so a repeat must return the same escalation; a webhook is repeated with the same
delivery id, so a repeat must be stored once.
"""

from __future__ import annotations

import heapq
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from escalink.sandbox.chaos_cases import ReplyPlan, reply_text
from escalink.sandbox.chaos_check import escalation_label
from escalink.sandbox.replies import ENGINEER, SignedWebhook, jira_comment_webhook

RETRY_STATUSES = {429, 500, 502, 503, 504}
ENGINEER_EMAIL = "jordan.pike@example.com"


@dataclass(slots=True)
class Sent:
    """What the client got for one ticket's escalation."""

    ticket_id: int
    escalation_ids: list[str] = field(default_factory=list)  # distinct ids, in the order they came
    state: str = ""
    attempts: int = 0
    failure: str = ""  # why the client gave up, if it did


class Stop(Exception):
    """The run cannot go on (a refused signature, an emulator gone)."""


def _wait_after(resp: httpx.Response | None, attempt: int) -> float:
    header = resp.headers.get("retry-after", "") if resp is not None else ""
    if header.isdigit():
        return min(float(header), 5.0)
    return min(0.2 * attempt, 2.0)


def deliver(client: httpx.Client, alive: threading.Event, deadline: float, send: Callable[[], httpx.Response],
            ok: Callable[[httpx.Response], bool]) -> tuple[httpx.Response | None, int, str]:
    """Send until `ok` (or a status that will not change); returns (answer, attempts, failure)."""
    attempt = 0
    resp: httpx.Response | None = None
    while time.monotonic() < deadline:
        alive.wait(timeout=5.0)
        attempt += 1
        try:
            resp = send()
        except httpx.TransportError:
            resp = None
            time.sleep(_wait_after(None, attempt))
            continue
        if ok(resp):
            return resp, attempt, ""
        if resp.status_code not in RETRY_STATUSES:
            return resp, attempt, f"HTTP {resp.status_code}"
        time.sleep(_wait_after(resp, attempt))
    return resp, attempt, "gave up"


class Escalations:
    """Sends every draft with `concurrency` requests in flight; `results` fills as answers come."""

    def __init__(self, url: str, drafts: list[dict[str, Any]], alive: threading.Event, *, concurrency: int = 8,
                 patience: float = 600.0) -> None:
        self.url, self.alive, self.patience = url, alive, patience
        self._todo = list(reversed(drafts))
        self._lock = threading.Lock()
        self.results: dict[int, Sent] = {}
        self.threads = [threading.Thread(target=self._run, daemon=True, name=f"esc-{i}") for i in range(concurrency)]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def done(self) -> bool:
        return not any(t.is_alive() for t in self.threads)

    def acknowledged(self) -> dict[int, list[str]]:
        with self._lock:
            return {t: list(s.escalation_ids) for t, s in self.results.items() if s.escalation_ids}

    def _run(self) -> None:
        timeout = httpx.Timeout(120.0, connect=2.0)
        with httpx.Client(base_url=self.url, timeout=timeout) as client:
            while True:
                with self._lock:
                    if not self._todo:
                        return
                    draft = self._todo.pop()
                self._escalate(client, draft)

    def _escalate(self, client: httpx.Client, draft: dict[str, Any]) -> None:
        ticket = int(draft["ticket_id"])
        sent = Sent(ticket)
        headers = {"Idempotency-Key": f"chaos-{ticket}"}

        def ok(resp: httpx.Response) -> bool:
            if resp.status_code not in (200, 201, 202):
                return False
            try:
                body = resp.json()
                escalation_id = str(body["escalation_id"])
            except (ValueError, KeyError, TypeError):
                return False  # an answer without the escalation id: reported as a failure
            with self._lock:
                if escalation_id not in sent.escalation_ids:
                    sent.escalation_ids.append(escalation_id)
                sent.state = str(body.get("state", ""))
            return True

        with self._lock:
            self.results[ticket] = sent
        _, sent.attempts, sent.failure = deliver(
            client, self.alive, time.monotonic() + self.patience,
            lambda: client.post("/api/escalations", json=draft, headers=headers), ok)


@dataclass(order=True)
class _Due:
    at: float
    number: int
    plan: ReplyPlan = field(compare=False)
    issue: dict[str, Any] = field(compare=False)
    replay: SignedWebhook | None = field(default=None, compare=False)  # a delivery to send once more


class Replies:
    """Posts each planned reply in Jira as an engineer, then delivers its comment_created webhook.

    A reply waits until its ticket's escalation was acknowledged and the issue carrying that
    escalation's label exists; then it is due at a random moment within `spread` seconds. A replayed
    delivery goes out again, identical, 1-10 s after the first was acknowledged, as Jira's retries do.
    """

    def __init__(self, escalink_url: str, jira_url: str, secret: str, plans: list[ReplyPlan], tickets: list[int],
                 escalations: Escalations, alive: threading.Event, rng: random.Random, *, threads: int = 4,
                 spread: float = 15.0, patience: float = 300.0) -> None:
        self.escalink_url, self.jira_url, self.secret = escalink_url, jira_url, secret
        self.tickets, self.escalations, self.alive, self.rng = tickets, escalations, alive, rng
        self.spread, self.patience = spread, patience
        self._waiting: dict[int, list[ReplyPlan]] = {}
        for plan in plans:
            self._waiting.setdefault(plan.ticket_index, []).append(plan)
        self._due: list[_Due] = []
        self._cv = threading.Condition()
        self.made: dict[int, int] = {}  # reply number -> ticket id, once the comment exists in Jira
        self.deliveries = 0  # webhook posts acknowledged (a replay counts twice)
        self.never_ready = 0  # replies whose ticket never got an issue
        self.failures: list[str] = []
        self.error: str = ""
        self.planner = threading.Thread(target=self._plan, daemon=True, name="reply-planner")
        self.threads = [threading.Thread(target=self._run, daemon=True, name=f"reply-{i}") for i in range(threads)]

    def start(self) -> None:
        self.planner.start()
        for t in self.threads:
            t.start()

    def done(self) -> bool:
        return not self.planner.is_alive() and not any(t.is_alive() for t in self.threads)

    def _plan(self) -> None:
        try:
            self._plan_until_done()
        except httpx.HTTPError as exc:
            self.error = self.error or f"reading the Jira emulator: {type(exc).__name__}: {exc}"
        finally:
            with self._cv:
                self._waiting.clear()
                self._cv.notify_all()

    def _plan_until_done(self) -> None:
        idle_since: float | None = None
        with httpx.Client(base_url=self.jira_url, timeout=30.0) as jira:
            while self._waiting and not self.error:
                acked = self.escalations.acknowledged()
                issues = jira.get("/_sandbox/state", params={"comments": "false"}).raise_for_status().json()
                by_label: dict[str, dict[str, Any]] = {}
                for found in issues["issues"]:  # oldest first: replies go to the first of duplicates
                    for label in found["labels"]:
                        by_label.setdefault(label, found)
                ready = []
                for index in list(self._waiting):
                    ids = acked.get(self.tickets[index], [])
                    issue = next((by_label[escalation_label(e)] for e in ids if escalation_label(e) in by_label), None)
                    if issue is not None:
                        ready += [_Due(time.monotonic() + self.rng.uniform(0, self.spread), p.number, p, issue)
                                  for p in self._waiting.pop(index)]
                with self._cv:
                    for item in ready:
                        heapq.heappush(self._due, item)
                    self._cv.notify_all()
                if ready or not self.escalations.done():
                    idle_since = None
                elif idle_since is None:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since > 180:  # escalations long over; these tickets have no issue
                    self.never_ready = sum(len(p) for p in self._waiting.values())
                    break
                time.sleep(1.0)

    def _next(self) -> _Due | None:
        with self._cv:
            while True:
                if self._due and self._due[0].at <= time.monotonic():
                    return heapq.heappop(self._due)
                if (not self._due and not self.planner.is_alive()) or self.error:
                    return None
                wait = self._due[0].at - time.monotonic() if self._due else 1.0
                self._cv.wait(timeout=max(0.01, min(wait, 1.0)))

    def _run(self) -> None:
        with httpx.Client(base_url=self.escalink_url, timeout=httpx.Timeout(30.0, connect=2.0)) as escalink, \
                httpx.Client(base_url=self.jira_url, timeout=30.0) as jira:
            while (item := self._next()) is not None:
                try:
                    self._play(escalink, jira, item)
                except (Stop, httpx.HTTPError) as exc:
                    self.error = self.error or f"{type(exc).__name__}: {exc}"
                    with self._cv:
                        self._cv.notify_all()

    def _play(self, escalink: httpx.Client, jira: httpx.Client, item: _Due) -> None:
        hook = item.replay or self._comment(jira, item)
        if item.plan.deliveries == 0:
            return  # never delivered: only reconciliation can find this one
        resp, _, failure = deliver(escalink, self.alive, time.monotonic() + self.patience,
                                   lambda: hook.post(self.escalink_url, escalink), lambda r: r.status_code == 200)
        if resp is not None and resp.status_code == 401:
            raise Stop("Escalink refused the webhook signature")
        with self._cv:
            if failure:
                self.failures.append(f"reply {item.number}: {failure}")
                return
            self.deliveries += 1
            if item.replay is None and item.plan.deliveries == 2:
                again = _Due(time.monotonic() + self.rng.uniform(1.0, 10.0), item.number, item.plan, item.issue, hook)
                heapq.heappush(self._due, again)
                self._cv.notify_all()

    def _comment(self, jira: httpx.Client, item: _Due) -> SignedWebhook:
        """Post the reply in Jira as the engineer; returns its signed comment_created webhook."""
        issue, text = item.issue, reply_text(item.number)
        author = {"account_id": ENGINEER.account_id, "name": ENGINEER.name, "display_name": ENGINEER.display_name,
                  "email": ENGINEER_EMAIL}
        comment = jira.post(f"/_sandbox/issues/{issue['key']}/comments", json={"author": author, "body": text})
        comment.raise_for_status()
        with self._cv:
            self.made[item.number] = self.tickets[item.plan.ticket_index]
        return jira_comment_webhook(issue_id=issue["id"], issue_key=issue["key"], text=text, secret=self.secret,
                                    flavor="cloud", author=ENGINEER, comment_id=comment.json()["id"],
                                    jira_url=self.jira_url)


def admin_jobs(client: httpx.Client) -> dict[str, Any]:
    resp = client.get("/api/admin/jobs")
    if resp.status_code == 404:
        raise Stop("GET /api/admin/jobs answered 404: this Escalink has no jobs admin endpoint")
    resp.raise_for_status()
    body: dict[str, Any] = resp.json()
    return body


def vendor_mark(client: httpx.Client, zendesk_url: str, jira_url: str, ticket_ids: list[int]) -> tuple[Any, ...]:
    """A summary of what both emulators hold that changes whenever Escalink writes anything to them."""
    zendesk = client.get(f"{zendesk_url}/_sandbox/state", params={"ids": ",".join(map(str, ticket_ids))})
    jira = client.get(f"{jira_url}/_sandbox/state", params={"comments": "false"})
    tickets, issues = zendesk.raise_for_status().json()["tickets"], jira.raise_for_status().json()["issues"]
    return (
        tuple((t["status"], tuple(t["tags"]), len(t["comments"])) for t in tickets),
        tuple((i["key"], tuple(i["labels"]), i["attachments"], len(i["remote_links"])) for i in issues),
    )


def settle(url: str, alive: threading.Event, mark: Callable[[], object], *, quiet: float,
           timeout: float) -> tuple[dict[str, Any], float]:
    """Wait until Escalink has nothing left to do; returns its last report and how long that took.

    Escalink's own periodic jobs (reconciliation every few seconds) keep its queue from staying empty
    for long, so "nothing left" is: the vendors' state (`mark`) has not changed for `quiet` seconds,
    long enough for two reconciliation passes, no inbound event was pending meanwhile, and the last
    report shows no pending or running job and no pending inbound event.
    """
    began = time.monotonic()
    last: object = None
    stable_since = began
    with httpx.Client(base_url=url, timeout=10.0) as client:
        while True:
            alive.wait(timeout=5.0)
            try:
                body = admin_jobs(client)
            except httpx.TransportError:
                body = {}
            now, current = time.monotonic(), mark()
            counts, inbound = body.get("counts") or {}, body.get("inbound") or {}
            inbound_busy = not body or inbound.get("pending", 0) > 0  # absent from the counts: none pending
            if current != last or inbound_busy:
                last, stable_since = current, now
            idle = bool(body) and counts.get("pending", 1) + counts.get("running", 1) == 0 and not inbound_busy
            if idle and now - stable_since >= quiet:
                return body, now - began
            if now - began > timeout:
                raise Stop(f"Escalink still had work after {timeout:.0f} s: {body}")
            time.sleep(1.0)
