"""Two managers in two browsers share the inbox: one claims a conversation, the other sees it is
taken and cannot take it; the first answers it with a saved reply and marks it answered."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Browser, log_in, shot
from townsquare.community.models import Channel, Conversation, Identity, Interaction, Member, Source
from townsquare.inbox.models import SavedReply
from townsquare.inbox.rollup import refresh_states
from townsquare.lib.testing import make_staff

TITLE = "How do I export my dashboard as a PDF?"


@pytest.fixture
def community(transactional_db: None) -> dict[str, Any]:
    """Filled before the browser starts (see the chromium fixture)."""
    from django.utils import timezone

    source = Source.objects.create(name="datavis", platform="slack")
    channel = Channel.objects.create(source=source, external_id="C1", name="help")
    now = timezone.now()
    ids: dict[str, Any] = {}
    for n, (name, title, hours) in enumerate(
        [("Ada Lovelace", TITLE, 30), ("Grace Hopper", "Is the meetup on Thursday?", 2)]
    ):
        person = Member.objects.create(display_name=name)
        identity = Identity.objects.create(
            source=source, member=person, external_id=f"U{n}", handle=name.split()[0].lower()
        )
        talk = Conversation.objects.create(
            source=source,
            channel=channel,
            external_id=f"C1:{n}",
            title=title,
            started_at=now - timedelta(hours=hours),
        )
        Interaction.objects.create(
            source=source,
            external_id=f"C1:{n}:m",
            kind="message",
            identity=identity,
            member=person,
            channel=channel,
            conversation=talk,
            text=title + " I tried the export menu.",
            created_at=talk.started_at,
            content_hash="x",
            imported_at=now,
        )
        ids[name] = talk.pk
    refresh_states()
    anna = make_staff("anna")
    make_staff("bruno")
    SavedReply.objects.create(
        title="Export help",
        body="Hi {first_name}! In #{channel}, the export is under File → Export.",
        created_by=anna,
    )
    return ids


@pytest.mark.browser
def test_two_managers_share_the_inbox(community: dict[str, Any], chromium: Browser) -> None:
    base = chromium.base_url
    anna = chromium.new_page()
    log_in(anna, base, "anna")
    nav = anna.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name=re.compile(r"^Inbox 2"))).to_be_visible()
    nav.get_by_role("link", name=re.compile("^Inbox")).click()
    expect(anna.get_by_role("heading", name="Inbox", exact=True)).to_be_visible()
    rows = anna.locator("#inbox-results tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(TITLE)  # the longest waiting first
    rows.first.get_by_role("button", name=re.compile("^Claim")).click()
    expect(anna.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(anna.get_by_text("Claimed by you")).to_be_visible()
    expect(anna.locator(".member-card")).to_contain_text("Ada Lovelace")
    shot(anna, "inbox-claimed-by-a")

    bruno = chromium.new_page()
    log_in(bruno, base, "bruno")
    bruno.goto(base + "/inbox/")
    row = bruno.locator("#inbox-results tbody tr", has_text=TITLE)
    expect(row.locator(".claim-holder")).to_have_text("anna")
    expect(row.get_by_role("button", name=re.compile("^Claim"))).to_have_count(0)
    # The other row is still free to claim.
    other = bruno.locator("#inbox-results tbody tr", has_text="meetup")
    expect(other.get_by_role("button", name=re.compile("^Claim"))).to_be_visible()
    shot(bruno, "inbox-seen-by-b")
    # The list filters in place (htmx): only what nobody claimed.
    bruno.get_by_label("Claimed").select_option("unclaimed")
    expect(bruno).to_have_url(re.compile(r"claim=unclaimed"))
    expect(bruno.locator("#inbox-results tbody tr")).to_have_count(1)
    shot(bruno, "inbox-unclaimed-seen-by-b")
    bruno.goto(base + f"/inbox/{community['Ada Lovelace']}/")
    expect(bruno.get_by_text("Claimed by anna")).to_be_visible()
    expect(bruno.get_by_role("button", name="Claim", exact=True)).to_have_count(0)
    expect(bruno.get_by_role("button", name="Release")).to_have_count(0)
    shot(bruno, "inbox-conversation-seen-by-b")

    # Anna picks the saved reply: htmx fills it in for Ada; she copies it and marks the
    # conversation answered.
    anna.get_by_label("Saved reply").select_option(label="Export help")
    text = anna.get_by_label("Text", exact=True)
    expect(text).to_have_value("Hi Ada! In #help, the export is under File → Export.")
    expect(anna.get_by_text("Townsquare cannot post replies yet")).to_be_visible()
    expect(anna.get_by_role("button", name="Copy the text")).to_be_visible()
    anna.locator("#composer").scroll_into_view_if_needed()
    shot(anna, "inbox-composer")
    anna.get_by_label("Link to the answer (optional)").fill("https://example.org/thread/1")
    anna.get_by_role("button", name="Mark as answered").click()
    expect(anna.get_by_text("Marked as answered: it has left the inbox.")).to_be_visible()
    expect(anna.locator("#inbox-results tbody tr")).to_have_count(1)
    expect(anna.locator("#inbox-results")).not_to_contain_text(TITLE)
    expect(nav.get_by_role("link", name=re.compile(r"^Inbox 1"))).to_be_visible()
    shot(anna, "inbox-after-answer")

    bruno.goto(base + "/inbox/")
    expect(bruno.locator("#inbox-results tbody tr")).to_have_count(1)
    expect(bruno.locator("#inbox-results")).not_to_contain_text(TITLE)
