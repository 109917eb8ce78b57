"""Each page renders for a signed-in user and shows what it should; filters, sorts and pages."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from townsquare.community.models import (
    Conversation,
    InteractionKind,
    Member,
    Source,
)
from townsquare.connectors.models import ImportRun, RunStatus
from townsquare.connectors.records import (
    ConversationRecord,
    IdentityRecord,
    InteractionRecord,
)
from townsquare.front.tests.exports import SlackExport, write_records
from townsquare.lib.testing import import_export

ROW_NAME = re.compile(r'<th scope="row" class="col-main"><a href="/members/\d+/">([^<]*)</a>')

pytestmark = pytest.mark.django_db


def row_names(page: str) -> list[str]:
    return [html.unescape(name) for name in ROW_NAME.findall(page)]


def _sample_user(shared_data: Path, handle: str) -> dict[str, object]:
    users = json.loads((shared_data / "slack_houstondatavis" / "users.json").read_text())
    return next(u for u in users if u["name"] == handle)


def test_today_shows_the_figures_and_the_sources(
    alice_client: Client, slack_sample: ImportRun
) -> None:
    from townsquare.care.models import CareItem, Status
    from townsquare.care.queue import refresh_queue
    from townsquare.inbox.models import ConversationState
    from townsquare.listening.pipeline import enrich_pending

    enrich_pending()  # as the worker does after an import
    refresh_queue()
    page = alice_client.get(reverse("home")).content.decode()
    assert "<h1>Today</h1>" in page
    open_items = CareItem.objects.filter(status=Status.OPEN).count()
    waiting = ConversationState.objects.filter(awaiting_reply=True).count()
    assert waiting > 0
    assert f'<span class="stat-number">{open_items}</span>' in page
    assert f'<span class="stat-number">{waiting}</span>' in page
    assert slack_sample.source is not None
    assert html.escape(slack_sample.source.name) in page
    assert f'href="/imports/{slack_sample.pk}/"' in page
    assert "Succeeded" in page
    for name in ("care", "inbox", "imports"):
        assert f'href="{reverse(name)}' in page


def test_today_lists_a_members_milestones_on_one_line(alice_client: Client) -> None:
    from django.utils import timezone

    from townsquare.care.models import CareItem, CareReason, Rule

    now = timezone.now()
    ada = Member.objects.create(display_name="Ada <b>Lovelace</b>")
    item = CareItem.objects.create(member=ada, created_at=now, updated_at=now)
    for n, (key, detail) in enumerate(
        [("slack", "One year on Slack"), ("forum", "One year on the forum")]
    ):
        CareReason.objects.create(
            item=item,
            rule=Rule.MILESTONE,
            key=f"milestone:anniversary:{key}",
            detail=detail,
            strength=1.0,
            member=ada,
            occurred_at=now - timedelta(hours=n),
            created_at=now,
        )
    page = alice_client.get(reverse("home")).content.decode()
    section = page.split('id="milestones-title"')[1].split("</section>")[0]
    assert section.count("Ada &lt;b&gt;Lovelace&lt;/b&gt;</a>") == 1
    assert "One year on Slack; One year on the forum" in section


def test_today_says_when_there_is_nothing_yet(alice_client: Client) -> None:
    page = alice_client.get(reverse("home")).content.decode()
    assert "No sources yet" in page
    assert "Nobody is waiting for a touch right now." in page
    assert "No spike this week." in page


def test_it_lists_members_with_their_platform(
    alice_client: Client, slack_sample: ImportRun, shared_data: Path
) -> None:
    page = alice_client.get(reverse("members")).content.decode()
    assert f"{Member.objects.count()} members" in page
    assert len(row_names(page)) == min(50, Member.objects.count())
    assert '<span class="badge badge-slack"' in page
    assert "Page 1 of 2" in page


@pytest.mark.parametrize("query_of", ["real_name", "handle", "email_domain"])
def test_it_searches_members_by_name_handle_or_email(
    alice_client: Client, slack_sample: ImportRun, shared_data: Path, query_of: str
) -> None:
    user = _sample_user(shared_data, "brian")
    profile = user["profile"]
    assert isinstance(profile, dict)
    query = {
        "real_name": str(user["real_name"]).upper(),
        "handle": "brian",
        "email_domain": str(profile["email"]).split("@")[1],
    }[query_of]
    page = alice_client.get(reverse("members"), {"q": query}).content.decode()
    assert str(user["real_name"]) in row_names(page)


def test_it_says_when_no_member_matches(alice_client: Client, slack_sample: ImportRun) -> None:
    page = alice_client.get(reverse("members"), {"q": "nobody-has-this-name"}).content.decode()
    assert "0 members" in page
    assert "No members match" in page


def test_it_filters_members_by_source(
    alice_client: Client, two_workspaces: list[ImportRun]
) -> None:
    north = Source.objects.get(name="north")
    page = alice_client.get(reverse("members"), {"source": north.pk}).content.decode()
    names = row_names(page)
    assert len(names) == 30
    assert all(name.startswith("North Person") for name in names)


def test_it_ignores_a_filter_with_a_bad_value(
    alice_client: Client, two_workspaces: list[ImportRun]
) -> None:
    response = alice_client.get(reverse("members"), {"source": "999", "sort": "bogus"})
    assert response.status_code == 200
    assert "60 members" in response.content.decode()


def test_it_sorts_members(alice_client: Client, slack_sample: ImportRun) -> None:
    by_name = row_names(alice_client.get(reverse("members"), {"sort": "name"}).content.decode())
    expected = list(
        Member.objects.order_by("display_name", "id").values_list("display_name", flat=True)[:50]
    )
    assert by_name == expected

    by_count = row_names(
        alice_client.get(reverse("members"), {"sort": "interactions"}).content.decode()
    )
    most_active = Member.objects.order_by("-interaction_count", "display_name").first()
    assert most_active is not None
    assert by_count[0] == most_active.display_name

    by_last_seen = alice_client.get(reverse("members"), {"sort": "last_seen"}).content.decode()
    latest = Member.objects.exclude(last_seen_at=None).order_by("-last_seen_at", "id").first()
    assert latest is not None
    assert row_names(by_last_seen)[0] == latest.display_name

    by_first_seen = alice_client.get(reverse("members"), {"sort": "first_seen"}).content.decode()
    newest = Member.objects.exclude(first_seen_at=None).order_by("-first_seen_at", "id").first()
    assert newest is not None
    assert row_names(by_first_seen)[0] == newest.display_name


def test_it_paginates_members(alice_client: Client, two_workspaces: list[ImportRun]) -> None:
    first = alice_client.get(reverse("members"), {"sort": "name"}).content.decode()
    second = alice_client.get(reverse("members"), {"sort": "name", "page": "2"}).content.decode()
    assert len(row_names(first)) == 50
    assert len(row_names(second)) == 10
    assert not set(row_names(first)) & set(row_names(second))
    # The page links keep the other parameters.
    assert 'href="?sort=name&amp;page=2"' in first
    beyond = alice_client.get(reverse("members"), {"page": 999}).content.decode()
    assert "Page 2 of 2" in beyond


def test_it_sends_only_the_listing_to_htmx(
    alice_client: Client, two_workspaces: list[ImportRun]
) -> None:
    response = alice_client.get(
        reverse("members"),
        {"q": "north person 1"},
        headers={"HX-Request": "true", "HX-Target": "member-results"},
    )
    page = response.content.decode()
    assert "<html" not in page
    assert page.startswith('<div id="member-results"')
    assert "North Person 1" in page
    assert "HX-Request" in response["Vary"]
    # A history restore gets the whole page back.
    full = alice_client.get(
        reverse("members"),
        headers={
            "HX-Request": "true",
            "HX-Target": "member-results",
            "HX-History-Restore-Request": "true",
        },
    ).content.decode()
    assert "<html" in full


def test_it_shows_a_member(alice_client: Client, two_workspaces: list[ImportRun]) -> None:
    person = Member.objects.get(display_name="North Person 3")
    page = alice_client.get(reverse("member", args=[person.pk])).content.decode()
    assert "<h1>North Person 3" in page
    assert "@north-user-3" in page
    assert "north" in page
    # Counts by kind, computed here from what the export holds for this user.
    assert "<span>Message</span> <strong>1</strong>" in page
    assert "<span>Reply</span> <strong>1</strong>" in page
    assert "<span>Reaction</span> <strong>2</strong>" in page
    # Message n is in ("general", "help", "random")[n % 3]; person 3 replied to message 2.
    assert "#general" in page
    assert "#random" in page
    assert "Message 3 from UN03" in page
    assert "@North Person 2 Reply to 2" in page
    conversation = Conversation.objects.get(title="Message 3 from UN03")
    assert f'href="/conversations/{conversation.pk}/"' in page


def test_it_paginates_a_member_timeline(alice_client: Client, tmp_path: Path) -> None:
    export = SlackExport(tmp_path / "busy")
    export.user("U1", "busy", "Busy Bee")
    export.channel("C1", "general")
    for n in range(60):
        export.message("general", "U1", f"note number {n}", 1_600_000_000 + n * 60)
    import_export("slack", export.write(), source="busy")
    person = Member.objects.get(display_name="Busy Bee")
    first = alice_client.get(reverse("member", args=[person.pk])).content.decode()
    assert "note number 59" in first  # newest first
    assert "note number 9<" not in first
    assert "Page 1 of 2" in first
    second = alice_client.get(reverse("member", args=[person.pk]), {"page": 2}).content.decode()
    assert "note number 9<" in second
    assert "note number 59" not in second


def test_it_links_profiles_only_when_they_are_web_addresses(alice_client: Client) -> None:
    write_records(
        source="fedi",
        platform="mastodon",
        records=[
            IdentityRecord("good", handle="good", profile_url="https://social.example/@good"),
            IdentityRecord("bad", handle="bad", profile_url="javascript:alert(1)"),
        ],
    )
    good = Member.objects.get(display_name="good")
    bad = Member.objects.get(display_name="bad")
    page = alice_client.get(reverse("member", args=[good.pk])).content.decode()
    assert 'href="https://social.example/@good"' in page
    page = alice_client.get(reverse("member", args=[bad.pk])).content.decode()
    assert "javascript:" not in page
    assert ">Profile<" not in page


def test_it_shows_a_conversation_with_threads_and_reactions(
    alice_client: Client, two_workspaces: list[ImportRun]
) -> None:
    conversation = Conversation.objects.get(source__name="north", title="Message 4 from UN04")
    page = alice_client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    assert "<h1>Message 4 from UN04</h1>" in page
    root = page.index("Message 4 from UN04</p>")
    reply = page.index("@North Person 4 Reply to 4</p>")  # the mention shows the name
    assert root < reply
    assert re.search(
        r'<li class="thread-message depth-1"[^>]*>(?:(?!</li>).)*?Reply to 4', page, re.S
    )
    # UN05 and UN06 reacted with thumbsup: one chip, count 2, both names.
    chip = re.search(r'<li class="reaction-chip".*?</li>', page, re.S)
    assert chip is not None
    assert ":thumbsup:" in chip.group(0)
    assert '<span class="reaction-count">2</span>' in chip.group(0)
    assert "North Person 5, North Person 6" in chip.group(0)
    author = Member.objects.get(display_name="North Person 4")
    assert f'href="/members/{author.pk}/"' in page
    assert "#help" in page


def test_it_shows_replies_whose_parent_is_missing(alice_client: Client) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    write_records(
        source="fedi",
        platform="mastodon",
        records=[
            ConversationRecord("t1", started_at=start, title="Orphans"),
            InteractionRecord(
                "r1",
                InteractionKind.REPLY,
                start,
                author_id="a",
                conversation_id="t1",
                parent_id="gone",
                text="<p>I answer something not imported</p>",
            ),
        ],
    )
    conversation = Conversation.objects.get(title="Orphans")
    page = alice_client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    assert "<p>I answer something not imported</p>" in page
    assert "in reply to a message not shown here" in page


def test_it_lists_and_filters_conversations(
    alice_client: Client, two_workspaces: list[ImportRun]
) -> None:
    page = alice_client.get(reverse("conversations")).content.decode()
    assert "60 conversations" in page
    assert "Page 1 of 2" in page
    assert "Choose a source first" in page

    south = Source.objects.get(name="south")
    page = alice_client.get(reverse("conversations"), {"source": south.pk}).content.decode()
    assert "30 conversations" in page
    assert "from UN" not in page
    assert '<option value="' in page and "#help" in page

    help_channel = south.channels.get(name="help")
    page = alice_client.get(
        reverse("conversations"), {"source": south.pk, "channel": help_channel.pk}
    ).content.decode()
    assert "10 conversations" in page
    # Message n is posted in ("general", "help", "random")[n % 3]: help holds n = 1, 4, 7...
    assert "Message 4 from US04" in page
    assert "Message 3 from US03" not in page
    # Each row counts messages, not reactions: a root and its reply.
    assert '<td class="num">2</td>' in page


def test_it_shows_import_runs_and_rejected_records(alice_client: Client, tmp_path: Path) -> None:
    export = SlackExport(tmp_path / "rough")
    export.user("U1", "ann", "Ann")
    export.channel("C1", "general")
    export.message("general", "U1", "fine", 1_600_000_000)
    export.raw_message("general", "2020-09-13", {"type": "message", "user": "U1", "text": "no ts"})
    run = import_export("slack", export.write(), source="rough")
    assert run.rejected_count == 1

    page = alice_client.get(reverse("imports")).content.decode()
    assert f'href="/imports/{run.pk}/"' in page
    assert "Succeeded" in page
    assert ">slack<" in page
    assert f'<td class="num"><a href="/imports/{run.pk}/#rejected">1</a></td>' in page

    page = alice_client.get(reverse("import_run", args=[run.pk])).content.decode()
    assert "Import #" in page
    assert '<th scope="row">message</th>' in page
    assert "numeric &#x27;ts&#x27; timestamp" in page
    assert "general/2020-09-13.json[1]" in page
    assert '<pre class="excerpt">' in page
    assert "no ts" in page
    assert "Succeeded after" in page  # the log


def test_it_shows_a_failed_run_with_its_error(alice_client: Client, tmp_path: Path) -> None:
    run = ImportRun.objects.create(
        format="slack", path=str(tmp_path), status=RunStatus.FAILED, error="users.json: broken"
    )
    page = alice_client.get(reverse("imports")).content.decode()
    assert "users.json: broken" in page
    page = alice_client.get(reverse("import_run", args=[run.pk])).content.decode()
    assert "<pre>users.json: broken</pre>" in page
    assert "Failed" in page


@pytest.mark.parametrize("name", ["member", "conversation", "import_run"])
def test_it_gives_404_for_a_missing_object(alice_client: Client, name: str) -> None:
    assert alice_client.get(reverse(name, args=[424242])).status_code == 404


def test_it_names_mentioned_members(alice_client: Client, tmp_path: Path) -> None:
    export = SlackExport(tmp_path / "mentions")
    export.user("U1", "ann", "Ann One")
    export.user("U2", "bob", "Bob Two")
    export.channel("C1", "general")
    export.message("general", "U1", "<@U2>: thanks! cc <@U404>", 1_600_000_000)
    import_export("slack", export.write(), source="mentions")
    conversation = Conversation.objects.get()
    ann = Member.objects.get(display_name="Ann One")
    for url in (
        reverse("conversations"),
        reverse("conversation", args=[conversation.pk]),
        reverse("member", args=[ann.pk]),
    ):
        page = alice_client.get(url).content.decode()
        assert "@Bob Two: thanks! cc @U404" in page, url
