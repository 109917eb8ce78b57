"""A real Chromium walks the main pages of an imported Slack sample, as a user would."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Browser, shot
from townsquare.lib.testing import import_export, make_staff
from townsquare.listening.pipeline import enrich_pending


def _most_talkative_user(export: Path) -> dict[str, Any]:
    """The user with the most plain messages, read straight from the export's files."""
    said: Counter[str] = Counter()
    for day in export.glob("*/*.json"):
        for message in json.loads(day.read_text()):
            if isinstance(message, dict) and message.get("user") and not message.get("subtype"):
                said[message["user"]] += 1
    users = json.loads((export / "users.json").read_text())
    top, _ = said.most_common(1)[0]
    user: dict[str, Any] = next(u for u in users if u["id"] == top)
    return user


@dataclass
class Sample:
    source_name: str
    run_id: int
    user: dict[str, Any]
    name: str


@pytest.fixture
def sample(transactional_db: None, shared_data: Path) -> Sample:
    """The database is filled before Playwright starts its event loop: Django refuses ORM
    calls from a thread that runs one."""
    export = shared_data / "slack_houstondatavis"
    run = import_export("slack", export)
    enrich_pending()
    make_staff("alice")
    user = _most_talkative_user(export)
    name = user["profile"].get("display_name") or user["profile"].get("real_name") or user["name"]
    return Sample(run.source.name if run.source else "", run.pk, user, name)


@pytest.mark.browser
def test_it_walks_the_main_pages(sample: Sample, chromium: Browser) -> None:
    base = chromium.base_url
    source_name, user, name = sample.source_name, sample.user, sample.name
    page = chromium.new_page()
    page.goto(base + "/")
    expect(page).to_have_url(f"{base}/login/?next=/")
    expect(page.get_by_role("heading", name="Log in to Townsquare")).to_be_visible()
    shot(page, "login")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    expect(page.locator(".source-name strong")).to_have_text(source_name)
    shot(page, "home")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Members")).to_be_visible()
    expect(page.locator("#member-results tbody tr")).to_have_count(50)
    shot(page, "members")

    # Typing searches as you type (htmx), and the address follows the search.
    page.get_by_label("Search").press_sequentially(user["name"], delay=30)
    expect(page).to_have_url(re.compile(rf"/members/\?q={re.escape(user['name'])}&"))
    rows = page.locator("#member-results tbody tr")
    expect(rows.first).to_contain_text(name)
    shot(page, "members-search")

    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    expect(page.get_by_role("heading", name="Identities")).to_be_visible()
    expect(page.get_by_text(f"@{user['name']}")).to_be_visible()
    shot(page, "member")

    link = page.locator(".timeline-item a[href^='/conversations/']").first
    title = link.inner_text()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title.rstrip("…"))
    expect(page.locator(".thread-message").first).to_be_visible()
    shot(page, "conversation")

    # A person corrects a label: the form opens in place, and the saved label says
    # who corrected it.
    message = page.locator(".thread-message").first
    message.get_by_text("Correct labels").click()
    sentiment = message.get_by_label("Sentiment")
    expect(sentiment).to_be_visible()
    wanted = "negative" if sentiment.input_value() != "negative" else "positive"
    sentiment.select_option(wanted)
    message.get_by_label("Note (optional)").fill("checked by hand")
    message.get_by_role("button", name="Save labels").click()
    corrected = message.locator(f".label-{wanted} .label-corrected")
    expect(corrected).to_have_text("corrected by alice")
    expect(message.get_by_role("status")).to_have_text("Saved 1 correction.")
    message.scroll_into_view_if_needed()
    shot(page, "correct-label")

    # Choosing a source refreshes the filters in place: its channels become choosable.
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Conversations").click()
    expect(page.get_by_label("Channel")).to_be_disabled()
    page.get_by_label("Source").select_option(label=f"{source_name} (Slack)")
    expect(page.get_by_label("Channel")).to_be_enabled()
    page.get_by_label("Channel").select_option(label="#general")
    # (the label filter, left at "Any", is in the address too)
    expect(page).to_have_url(re.compile(r"/conversations/\?source=\d+&channel=\d+&label=$"))
    expect(page.locator("#conversation-results tbody tr").first).to_contain_text("#general")
    shot(page, "conversations")

    nav.get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", name="Imports")).to_be_visible()
    expect(page.get_by_role("link", name=f"#{sample.run_id}")).to_be_visible()
    expect(page.locator(".status-succeeded").first).to_have_text("Succeeded")
    shot(page, "imports")

    # A phone-sized window gets the same pages, without sideways scrolling.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/members/")
    expect(page.get_by_role("heading", name="Members")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    shot(page, "members-phone")
