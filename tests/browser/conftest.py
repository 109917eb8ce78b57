"""The browser the UI tests drive: Debian's Chromium through Playwright, with every request
checked to stay on the app and every page error failing the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def shot(page: Page, name: str) -> None:
    """Save a screenshot of the page the test checks, for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # caret="initial": hiding the caret leaves style="" on inputs, which htmx copies onto the
    # swapped-in inputs with setAttribute, which the Content-Security-Policy then refuses.
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False, caret="initial")


def log_in(page: Page, base_url: str, username: str) -> None:
    """Sign in through the login form, as a person would (make_staff's test password)."""
    page.goto(base_url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


class Browser:
    """A Chromium with one or more pages; all their requests and errors are recorded."""

    def __init__(self, base_url: str, browser: Any) -> None:
        self.base_url = base_url
        self.browser = browser
        self.outside: list[str] = []
        self.errors: list[str] = []

    def new_page(self, width: int = 1280, height: int = 860) -> Page:
        # A context per page: two pages are two people, each with their own session.
        context = self.browser.new_context(viewport={"width": width, "height": height})
        page: Page = context.new_page()
        base = self.base_url
        page.on(
            "request", lambda r: self.outside.append(r.url) if not r.url.startswith(base) else None
        )
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        return page


@pytest.fixture
def chromium(live_server: Any, transactional_db: None) -> Iterator[Browser]:
    """Fill the database before asking for this fixture: Django refuses ORM calls from the
    thread that runs Playwright's event loop once it has started."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            browser = Browser(live_server.url, launched)
            yield browser
        finally:
            launched.close()
    assert browser.outside == [], "every asset must come from the app itself"
    assert browser.errors == []
