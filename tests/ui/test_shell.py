"""The ticket shell: who may open it, what it carries, and the headers that let Zendesk frame it."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from escalink.web.ui.session import COOKIE


def test_shell_needs_a_session(browser_client: Callable[..., httpx.Client]) -> None:
    r = browser_client(signed_in=False).get("/app/tickets/1")
    assert r.status_code == 401
    assert "text/html" in r.headers["content-type"]
    assert "Zendesk ticket sidebar" in r.text


def test_forged_or_altered_cookie_is_refused(browser_client: Callable[..., httpx.Client]) -> None:
    client = browser_client()
    good = client.cookies[COOKIE]
    body, sig = good.split(".")
    client.cookies.set(COOKIE, body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + sig)
    assert client.get("/app/tickets/1").status_code == 401


def test_shell_shows_tabs_and_csrf(browser_client: Callable[..., httpx.Client]) -> None:
    client = browser_client()
    r = client.get("/app/tickets/1")
    assert r.status_code == 200, r.text
    for label in ("Linked issues", "Create issue", "Notify"):
        assert label in r.text
    assert f'content="{client.headers["X-CSRF-Token"]}"' in r.text
    assert "frame-ancestors" in r.headers["content-security-policy"]
    assert "https://*.zendesk.com" in r.headers["content-security-policy"]


def test_static_files_are_served_with_licence(browser_client: Callable[..., httpx.Client]) -> None:
    client = browser_client(signed_in=False)
    assert client.get("/app/static/htmx.min.js").status_code == 200
    assert "Zero-Clause BSD" in client.get("/app/static/htmx.LICENSE.txt").text
