"""Browser tests: Debian's Chromium, driven by Playwright, against Escalink and the emulators on loopback.

The browser is the system's (`/usr/bin/chromium`, or ESCALINK_CHROMIUM); Playwright never downloads
one. Pages are opened at the width of Zendesk's ticket sidebar. Every test saves a screenshot under
test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from escalink.sandbox.stack import Stack, start_stack

SIDEBAR = {"width": 320, "height": 900}
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# The machine's network is closed: without these flags Chromium keeps trying to reach Google's hosts.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    path = os.environ.get("ESCALINK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install -y chromium), "
                    "or set ESCALINK_CHROMIUM to a Chromium binary.", pytrace=False)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope, not session: Playwright's sync API keeps an event loop running on this thread
    # while it is open, which would break later tests that start their own (asyncio.run).
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Stack]:
    """Escalink with its emulated vendors, on SQLite (the browser flows do not depend on the store)."""
    with start_stack(flavor="cloud", database_url=f"sqlite:///{tmp_path / 'escalink.db'}") as s:
        yield s


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport=SIDEBAR)
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    SHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert not errors, f"JavaScript errors on the page: {errors}"


def sign_in(context: BrowserContext, live: Stack, email: str) -> None:
    """A session cookie for `email`, as /app/zaf would set after Zendesk's signed token."""
    from escalink.web.ui.session import COOKIE

    codec = live.app.state.sessions
    context.add_cookies([{"name": COOKIE, "value": codec.encode(codec.new(email, None, ())),
                          "url": live.url + "/app/"}])
