"""The ticket shell in a real browser: tabs by keyboard (Enter, arrows, Home), panels swapped in by HTMX, the
tab bar following links inside panels."""

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
    page.keyboard.press("ArrowLeft")  # the arrows move along the tabs and open each
    expect(page.get_by_role("tab", name="Create issue")).to_be_focused()
    expect(page.get_by_role("tab", name="Create issue")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("heading", name="Create issue")).to_be_visible()
    expect(page.get_by_role("tab", name="Create issue")).to_be_focused()  # still on the tabs, not in the panel
    page.keyboard.press("Home")
    expect(page.get_by_role("tab", name="Linked issues")).to_have_attribute("aria-selected", "true")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

    # A link inside a panel to another tab's panel moves the selection with it.
    page.locator("#panel").get_by_role("link", name="Create issue").click()
    expect(page.get_by_role("heading", name="Create issue")).to_be_visible()
    expect(page.get_by_role("tab", name="Create issue")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tab", name="Linked issues")).to_have_attribute("aria-selected", "false")
