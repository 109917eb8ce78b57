"""A moderator in a real Chromium: open the queue from the main navigation, hide a toxic
message with a reason, and find the decision in the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Browser, log_in, shot
from townsquare.lib.testing import make_staff
from townsquare.moderation.models import ModerationItem
from townsquare.moderation.tests.conftest import QUESTION, TOXIC, import_community, item_of


@pytest.fixture
def flagged(transactional_db: None, tmp_path: Path) -> ModerationItem:
    import_community(tmp_path / "community")
    make_staff("mo", role="moderator")
    return item_of(TOXIC)


@pytest.mark.browser
def test_a_moderator_hides_a_toxic_message_and_finds_it_in_the_log(
    flagged: ModerationItem, chromium: Browser
) -> None:
    page = chromium.new_page()
    log_in(page, chromium.base_url, "mo")
    # The pending count arrives after the page (htmx).
    link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Moderation")
    expect(link.locator(".nav-count")).to_have_text("2 pending")
    link.click()
    expect(page.get_by_role("heading", name="Moderation", level=1)).to_be_visible()

    item = page.locator(f"#m{flagged.pk}")
    expect(item).to_contain_text(TOXIC)
    expect(item.locator(".moderation-context")).to_contain_text(QUESTION)
    expect(item).to_contain_text("Pending")
    shot(page, "moderation-queue")

    # No reason: refused in place, nothing changes.
    item.get_by_role("button", name="Hide").click()
    expect(item.get_by_role("alert")).to_have_text("Say why: a reason is required to hide.")

    item.get_by_label("Reason").fill("Personal insults towards another member")
    item.get_by_role("button", name="Hide").click()
    expect(item.get_by_role("status")).to_have_text("Hidden: Townsquare no longer shows its text.")
    expect(item.locator(".moderation-head .status")).to_have_text("Hidden")
    shot(page, "moderation-hidden")

    page.get_by_role("navigation", name="Moderation").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Moderation log")).to_be_visible()
    row = page.locator("#log-results tbody tr").first
    expect(row).to_contain_text("mo")
    expect(row).to_contain_text("Hide")
    expect(row).to_contain_text("Pending → Hidden")
    expect(row).to_contain_text("Personal insults towards another member")
    shot(page, "moderation-log")

    # The conversation no longer shows the text; a moderator may reveal it.
    row.get_by_role("link", name=f"Message #{flagged.interaction_id}").click()
    message = page.locator(f"#i{flagged.interaction_id}")
    expect(message).to_contain_text("Hidden by a moderator")
    expect(message.get_by_text(TOXIC)).to_be_hidden()
    message.get_by_text("Hidden by a moderator").click()
    expect(message.get_by_text(TOXIC)).to_be_visible()
    shot(page, "moderation-conversation")
