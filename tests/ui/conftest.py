"""Sidebar page tests: Escalink on loopback against the emulators, an agent signed in by cookie."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from escalink.sandbox.stack import Stack, start_stack
from escalink.web.ui.session import COOKIE, CSRF_HEADER, SessionCodec

AGENT = "dana.whitfield@example.com"
TIER2 = "lena.kowalczyk@example.com"


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    with start_stack(flavor="cloud", database_url=database_url) as s:
        yield s


def sign_in(stack: Stack, client: httpx.Client, email: str = AGENT, user_id: int | None = None) -> str:
    """Give the client a valid session cookie for `email`; returns the session's CSRF token."""
    codec: SessionCodec = stack.app.state.sessions
    session = codec.new(email, user_id, ())
    client.cookies.set(COOKIE, codec.encode(session))
    client.headers[CSRF_HEADER] = session.csrf
    return session.csrf


@pytest.fixture
def browser_client(stack: Stack) -> Iterator[Callable[..., httpx.Client]]:
    """Factory: an HTTP client signed in as the given agent (a Tier 1 agent by default)."""
    clients: list[httpx.Client] = []

    def make(email: str = AGENT, signed_in: bool = True) -> httpx.Client:
        client = httpx.Client(base_url=stack.url, timeout=30, follow_redirects=False)
        clients.append(client)
        if signed_in:
            sign_in(stack, client, email)
        return client

    yield make
    for c in clients:
        c.close()
