"""A viewer opens Reports in a real Chromium: every chart is drawn from the app's own scripts
under the Content-Security-Policy, a table view opens, and a heatmap is a shaded table."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Browser, log_in, shot
from townsquare.lib.testing import make_staff
from townsquare.reports.data import CHARTS
from townsquare.reports.tests.town import TWO_WEEKS, Town, build_town


@pytest.fixture
def town(transactional_db: None) -> Town:
    """Filled before the browser starts (see the chromium fixture)."""
    town = build_town()
    make_staff("vera", role="viewer")
    return town


@pytest.mark.browser
def test_a_viewer_reads_the_reports(town: Town, chromium: Browser) -> None:
    page = chromium.new_page()
    log_in(page, chromium.base_url, "vera")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()

    # The pickers, as a person fills them: the two weeks of March 2024, by week.
    page.get_by_label("Period", exact=True).select_option("custom")
    page.get_by_label("From (custom dates)").fill(TWO_WEEKS["since"])
    page.get_by_label("To (custom dates)").fill(TWO_WEEKS["until"])
    page.get_by_label("By", exact=True).select_option("week")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{chromium.base_url}/reports/?{urlencode(_form_order())}")

    drawn = [slug for slug, chart in CHARTS.items() if chart.draw != "heatmap"]
    for slug in drawn:
        canvas = page.locator(f"#report-{slug} canvas[data-drawn='true']")
        expect(canvas).to_have_count(1)
        box = canvas.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, slug

    activity = page.locator("#report-activity")
    table = activity.get_by_role("table")
    expect(table).to_be_hidden()
    activity.get_by_text("Table view").click()
    expect(table).to_be_visible()
    expect(table.get_by_role("row")).to_have_count(3)
    expect(table.get_by_role("row").nth(2)).to_contain_text("2024-03-11")

    hours = page.locator("#report-hours table")
    expect(hours).to_be_visible()
    expect(hours.locator("td.heat-7")).to_have_count(1)  # Friday 9:00, Ben's three messages
    page.locator("#report-activity").scroll_into_view_if_needed()
    shot(page, "reports")
    assert chromium.errors == [], "no console error, no Content-Security-Policy violation"


@pytest.mark.browser
def test_a_bad_pick_is_a_form_error_in_the_browser(town: Town, chromium: Browser) -> None:
    page = chromium.new_page()
    log_in(page, chromium.base_url, "vera")
    page.goto(chromium.base_url + "/reports/?range=custom&since=2024-03-10&until=2024-03-01")
    expect(page.get_by_role("alert")).to_contain_text(
        "The last day must be on or after the first day."
    )
    expect(page.locator("canvas")).to_have_count(0)
    # The 400 status of the page is no console error: only the browser's own messages are.
    chromium.errors[:] = [e for e in chromium.errors if "400 (Bad Request)" not in e]


def _form_order() -> list[tuple[str, str]]:
    """The query string the form sends: every field, in the form's order."""
    return [
        ("range", "custom"),
        ("since", TWO_WEEKS["since"]),
        ("until", TWO_WEEKS["until"]),
        ("period", "week"),
        ("source", ""),
        ("channel", ""),
        ("segment", ""),
    ]
