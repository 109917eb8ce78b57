"""A manager's morning in a real Chromium: log in, open Today, open the first care item with
the member's context, resolve it with a touchpoint, and find it on the member's profile."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Browser, log_in, shot
from townsquare.care.models import CareItem, Status
from townsquare.care.queue import refresh_queue
from townsquare.care.tests.conftest import NOW, community_messages, load
from townsquare.lib.testing import make_staff


@pytest.fixture
def morning(transactional_db: None, tmp_path: Path) -> CareItem:
    load(tmp_path / "export", community_messages())
    refresh_queue(NOW)
    make_staff("bob")
    # The member comes with the item: nothing may touch the database once Playwright runs.
    top = (
        CareItem.objects.filter(status=Status.OPEN)
        .select_related("member")
        .order_by("-priority", "id")
        .first()
    )
    assert top is not None
    return top


@pytest.mark.browser
def test_a_manager_works_the_first_care_item(morning: CareItem, chromium: Browser) -> None:
    page = chromium.new_page()
    log_in(page, chromium.base_url, "bob")
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    first = page.locator(".today-care .care-item").first
    expect(first).to_contain_text(morning.member.display_name)
    shot(page, "today")

    first.get_by_role("link", name=morning.member.display_name).click()
    expect(page.get_by_role("heading", name="Why they need a touch")).to_be_visible()
    card = page.get_by_role("complementary", name="Member context")
    expect(card).to_contain_text(morning.member.display_name)
    shot(page, "care-item")

    form = page.get_by_role("form", name="Resolve with a touchpoint")
    form.get_by_label("What was done").fill("Called them to talk about the build")
    form.get_by_label("Outcome").fill("Feeling better; will join the next release call")
    form.get_by_label("Where").fill("Phone")
    form.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_contain_text("Resolved")
    shot(page, "care-resolved")

    page.goto(f"{chromium.base_url}/members/{morning.member_id}/")
    # Logged as a touchpoint, and kept in the member's care history.
    expect(page.get_by_text("Why: Called them to talk about the build")).to_be_visible()
    care = page.locator("section", has=page.get_by_role("heading", name="Care", exact=True))
    expect(care).to_contain_text("Resolved")
    expect(care).to_contain_text("Called them to talk about the build (bob)")
    shot(page, "member-touchpoint")

    # At a phone's width the queue and an item fit without sideways scrolling.
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/", "/care/", f"/care/{morning.pk}/"):
        page.goto(chromium.base_url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    shot(page, "care-item-phone")
