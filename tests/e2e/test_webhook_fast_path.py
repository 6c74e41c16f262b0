"""Webhook receiving under concurrency, over real HTTP: every 200 is a stored row, replays stored once,
a database failure answered 503 with nothing acknowledged; and the fast path leaves other requests alone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from starlette.types import Message, Receive, Scope, Send

from escalink.adapters.db.models import InboundEvent
from escalink.sandbox.replies import SignedWebhook, jira_comment_webhook, zendesk_merge_webhook
from escalink.sandbox.stack import Stack, start_stack
from escalink.web.webhooks.fast_path import WebhookFastPath
from escalink.web.webhooks.routes import router as webhooks_router

DELIVERIES = 40


@pytest.fixture
def cloud(database_url: str) -> Iterator[Stack]:
    with start_stack(flavor="cloud", database_url=database_url) as s:
        yield s


def hooks(stack: Stack, count: int) -> list[SignedWebhook]:
    secret = stack.settings.jira_webhook_secret.get_secret_value()
    return [jira_comment_webhook(issue_id=str(10001 + i % 5), issue_key=f"ESCA-{1 + i % 5}", secret=secret,
                                 text=f"Fictional answer number {i}.") for i in range(count)]


def post_all(url: str, signed: list[SignedWebhook]) -> list[httpx.Response]:
    with httpx.Client(base_url=url, timeout=30) as client, ThreadPoolExecutor(16) as pool:
        return list(pool.map(lambda h: client.post(h.path, content=h.body, headers=h.headers), signed))


def rows(stack: Stack) -> list[InboundEvent]:
    with stack.container.store._sessions() as s:
        return list(s.scalars(select(InboundEvent).order_by(InboundEvent.id)))


def test_concurrent_deliveries_are_each_stored_once_and_replays_answered(cloud: Stack) -> None:
    signed = hooks(cloud, DELIVERIES)
    first = post_all(cloud.url, signed)
    assert [r.status_code for r in first] == [200] * DELIVERIES
    assert {r.json()["status"] for r in first} == {"stored"}
    assert [r.json()["delivery_id"] for r in first] == [h.headers["X-Atlassian-Webhook-Identifier"] for h in signed]
    assert {r.json()["event_type"] for r in first} == {"comment_created"}

    again = post_all(cloud.url, signed + signed[:5])  # replays, some of them twice at once
    assert {(r.status_code, r.json()["status"]) for r in again} == {(200, "duplicate")}

    stored = rows(cloud)
    assert sorted(r.delivery_id for r in stored) == sorted(h.headers["X-Atlassian-Webhook-Identifier"] for h in signed)
    assert {(r.source, r.event_type, r.status) for r in stored} == {("jira", "comment_created", "pending")}
    assert {r.issue_id for r in stored} == {str(10001 + i) for i in range(5)}


def test_a_zendesk_delivery_is_stored_with_its_ticket(cloud: Stack) -> None:
    hook = zendesk_merge_webhook(source_ticket_id=104, target_ticket_id=101,
                                 secret=cloud.settings.zendesk_webhook_secret.get_secret_value())
    [resp] = post_all(cloud.url, [hook])
    assert resp.status_code == 200 and resp.json()["status"] == "stored"
    [row] = rows(cloud)
    assert (row.source, row.ticket_id, row.event_type) == ("zendesk", 104, "zen:event-type:ticket.merged")


def test_when_the_database_refuses_nothing_is_acknowledged(tmp_path: Path) -> None:
    with start_stack(flavor="cloud", database_url=f"sqlite:///{tmp_path / 'gone.db'}") as s:
        with s.container.store.engine.begin() as conn:
            conn.execute(text("DROP TABLE inbound_events"))
        [resp] = post_all(s.url, hooks(s, 1))
        assert resp.status_code == 503 and resp.headers["content-type"] == "application/problem+json"
        assert resp.headers["retry-after"] == "5"
        assert resp.json()["type"] == "/problems/webhook-not-stored"


def test_without_the_fast_path_the_routes_answer_alike(cloud: Stack) -> None:
    app = FastAPI()
    app.state.container = cloud.container
    app.include_router(webhooks_router)
    [hook] = hooks(cloud, 1)
    with TestClient(app) as client:
        first = client.post(hook.path, content=hook.body, headers=hook.headers)
        again = client.post(hook.path, content=hook.body, headers=hook.headers)
        forged = client.post(hook.path, content=hook.body + b" ", headers=hook.headers)
    assert (first.status_code, first.json()["status"]) == (200, "stored")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert forged.status_code == 401
    assert len(rows(cloud)) == 1


class Inner:
    """Stands for the FastAPI stack behind the fast path: records what reaches it."""

    def __init__(self) -> None:
        self.paths: list[tuple[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append((scope["method"], scope["path"]))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def call(app: WebhookFastPath, container: Any, method: str, path: str, hook: SignedWebhook,
               root_path: str = "", chunks: int = 1) -> list[Message]:
    body = hook.body
    size = -(-len(body) // chunks)
    parts = [body[i * size:(i + 1) * size] for i in range(chunks)]
    messages = [{"type": "http.request", "body": p, "more_body": i < chunks - 1} for i, p in enumerate(parts)]
    scope = {"type": "http", "method": method, "path": root_path + path, "root_path": root_path,
             "headers": [(k.lower().encode(), v.encode()) for k, v in hook.headers.items()],
             "app": SimpleNamespace(state=SimpleNamespace(container=container))}
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def test_the_fast_path_answers_only_the_webhook_posts(cloud: Stack) -> None:
    inner = Inner()
    app = WebhookFastPath(inner)
    signed = hooks(cloud, 3)

    async def run() -> list[list[Message]]:
        return [
            await call(app, cloud.container, "POST", "/webhooks/jira", signed[0], chunks=3),
            await call(app, cloud.container, "POST", "/webhooks/jira", signed[1], root_path="/escalink"),
            await call(app, cloud.container, "GET", "/webhooks/jira", signed[2]),
            await call(app, cloud.container, "POST", "/webhooks/jira/", signed[2]),
            await call(app, cloud.container, "POST", "/api/webhooks/jira", signed[2]),
        ]

    answers = asyncio.run(run())
    assert [a[0]["status"] for a in answers] == [200, 200, 299, 299, 299]
    assert b'"status":"stored"' in answers[0][1]["body"] and b'"status":"stored"' in answers[1][1]["body"]
    assert inner.paths == [("GET", "/webhooks/jira"), ("POST", "/webhooks/jira/"), ("POST", "/api/webhooks/jira")]
    assert len(rows(cloud)) == 2


def test_a_client_gone_before_its_body_arrived_leaves_no_row(cloud: Stack) -> None:
    app = WebhookFastPath(Inner())
    [hook] = hooks(cloud, 1)

    async def run() -> list[Message]:
        sent: list[Message] = []
        scope = {"type": "http", "method": "POST", "path": "/webhooks/jira", "root_path": "",
                 "headers": [(k.lower().encode(), v.encode()) for k, v in hook.headers.items()],
                 "app": SimpleNamespace(state=SimpleNamespace(container=cloud.container))}
        messages: list[Message] = [{"type": "http.request", "body": hook.body[:10], "more_body": True},
                                   {"type": "http.disconnect"}]

        async def receive() -> Message:
            return messages.pop(0)

        async def send(message: Message) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return sent

    assert asyncio.run(run()) == []
    assert rows(cloud) == []
