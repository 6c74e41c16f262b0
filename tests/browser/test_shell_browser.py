"""The ticket shell in a real browser: tabs reachable by keyboard, panels swapped in by HTMX."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from escalink.sandbox.stack import Stack
from tests.browser.conftest import sign_in


def test_tabs_switch_panels_by_keyboard(live: Stack, context: BrowserContext, page: Page) -> None:
    sign_in(context, live, "dana.whitfield@example.com")
    page.goto(f"{live.url}/app/tickets/1")
    expect(page.get_by_role("tab", name="Linked issues")).to_have_attribute("aria-selected", "true")
    page.get_by_role("tab", name="Notify").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("tab", name="Notify")).to_have_attribute("aria-selected", "true")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
