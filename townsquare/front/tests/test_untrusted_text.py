"""Imported text is untrusted: every page escapes it, and render_body sanitises source HTML."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db.models import Max, Min
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from townsquare.care.models import CareItem
from townsquare.care.queue import refresh_queue
from townsquare.community.memory import do_add_knowledge_from_message
from townsquare.community.models import Conversation, Interaction, InteractionKind, Member, Source
from townsquare.connectors.models import ImportRun
from townsquare.connectors.records import (
    ChannelRecord,
    ConversationRecord,
    IdentityRecord,
    InteractionRecord,
)
from townsquare.digest.content import week_of
from townsquare.digest.services import do_build_digest, do_send_digest
from townsquare.front.templatetags.townsquare import http_url_or_empty, readable, render_body
from townsquare.front.tests.exports import SlackExport, write_records
from townsquare.front.tests.test_access import _page_patterns
from townsquare.front.tests.test_roles import _url
from townsquare.inbox.models import ConversationState
from townsquare.lib.testing import import_export
from townsquare.listening.models import Enrichment, TermMatch, Thanks, TrackedTerm
from townsquare.listening.pipeline import TEXT_KINDS, enrich_pending
from townsquare.moderation.models import ModerationItem
from townsquare.moderation.services import do_moderate, flag_interactions
from townsquare.reports.data import CHARTS
from townsquare.segments.models import Segment
from townsquare.webhooks.events import care_item_payloads, file_deliveries
from townsquare.webhooks.models import Subscription

SCRIPT = "<script>alert('xss')</script>"
IMG = "<img src=x onerror=alert(1)>"
JS_LINK = '<a href="javascript:alert(1)">click</a>'
HOSTILE = f"{SCRIPT}{IMG}{JS_LINK}"
DANGEROUS_TAGS = {"img", "iframe", "object", "embed", "style", "base", "meta", "link", "form"}
# Tags our own templates use; anything else in a page came from imported text.
OWN_FORMS = {"/logout/", "/members/", "/conversations/"}


class _Checker(HTMLParser):
    """Collects every executable thing in a page that our templates did not put there."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.in_json = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        # Data for our scripts (json_script) is JSON that never runs, with <, > and & escaped.
        self.in_json = tag == "script" and values.get("type") == "application/json"
        if (
            tag == "script"
            and not self.in_json
            and not (values.get("src") or "").startswith("/static/")
        ):
            self.problems.append(f"inline script {attrs}")
        if tag in DANGEROUS_TAGS and not _ours(tag, values):
            self.problems.append(f"<{tag} {attrs}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}={value!r} on <{tag}>")
            if name in ("href", "src", "action", "formaction", "hx-get") and value:
                scheme = value.strip().lower().split(":", 1)[0]
                if ":" in value and scheme not in ("http", "https", "mailto"):
                    self.problems.append(f"{name}={value!r} on <{tag}>")

    def handle_endtag(self, tag: str) -> None:
        self.in_json = False

    def handle_data(self, data: str) -> None:
        if self.in_json and any(c in data for c in "<>&"):
            self.problems.append(f"unescaped JSON data {data[:80]!r}")


def _own_form(action: str | None) -> bool:
    """A form posting to one of our own pages (notes, tags, segments...): imported text,
    escaped, can never produce one; any other action could."""
    if not action or not action.startswith("/"):
        return False
    try:
        return resolve(action.split("?", 1)[0]).url_name is not None
    except Resolver404:
        return False


def _ours(tag: str, values: dict[str, str | None]) -> bool:
    if tag == "link":
        return (values.get("href") or "").startswith("/static/")
    if tag == "meta":
        return set(values) <= {"charset", "name", "content"} and values.get("name") != "refresh"
    if tag == "form":
        return values.get("action") in OWN_FORMS or _own_form(values.get("action"))
    return False


def assert_safe(page: str) -> None:
    checker = _Checker()
    checker.feed(page)
    assert checker.problems == []


def test_it_escapes_plain_text() -> None:
    html = render_body(f"{HOSTILE}\nsecond line", "slack")
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html
    assert "<br>" in html
    assert_safe(html)


def test_it_sanitises_html_from_html_platforms() -> None:
    for platform in ("stackexchange", "mastodon"):
        html = render_body(
            f"<p>Hello <strong>world</strong> <a href='https://ok.example'>ok</a></p>{HOSTILE}"
            "<pre><code>x &lt; y</code></pre><iframe src='https://evil.example'></iframe>",
            platform,
        )
        assert "<p>Hello <strong>world</strong>" in html
        assert '<a href="https://ok.example" rel="noopener nofollow">ok</a>' in html
        assert "<pre><code>x &lt; y</code></pre>" in html
        assert "alert('xss')" not in html  # script content is dropped, not shown
        assert "javascript:" not in html
        assert "<iframe" not in html
        assert_safe(html)


def test_it_keeps_only_web_and_mail_links_in_html() -> None:
    html = render_body(
        '<a href="mailto:a@example.org">mail</a><a href="data:text/html,x">data</a>'
        '<a href="/relative">rel</a><a href="vbscript:x">vb</a>',
        "mastodon",
    )
    assert 'href="mailto:a@example.org"' in html
    assert html.count("href=") == 1


def test_it_shows_a_mail_by_its_own_words_with_the_quotes_folded() -> None:
    mail = (
        f"Try a clean library first {HOSTILE}\n\n-- \nJane\n\n"
        "On Mon, 3 Jun 2024, Tom wrote:\n> Why does it fail? <b>now</b>\n"
    )
    html = render_body(mail, "mbox")
    own, _, folded = html.partition('<details class="mail-quoted">')
    assert "Try a clean library first" in own
    assert "Why does it fail" not in own and "Jane" not in own
    # Nothing is lost: the whole mail is one click away, escaped like the rest.
    assert "<summary>Whole mail, with what it quotes</summary>" in folded
    assert "Jane" in folded and "&gt; Why does it fail? &lt;b&gt;now&lt;/b&gt;" in folded
    assert "<script" not in html and "<b>" not in html
    assert_safe(html)
    # A mail without quotes or signature is shown as it is.
    assert render_body("Just a question?", "mbox") == render_body("Just a question?", "slack")
    assert "<details" not in render_body("On Mon, Tom wrote:\n> only quoted", "mbox")
    # An excerpt (a profile's example messages) starts with the mail's own words too.
    assert readable(mail, "mbox").startswith("Try a clean library first")
    assert "Jane" not in readable(mail, "mbox")


def test_it_treats_markdown_and_other_platforms_as_text() -> None:
    html = render_body("<b>bold</b> **md**", "github")
    assert "&lt;b&gt;bold&lt;/b&gt; **md**" in html


def test_it_shows_slack_markup_readably() -> None:
    html = render_body(
        "hi <@U123|bob> and <@U999>, see <https://example.org/a?b=1&amp;c=2|the docs> "
        "in <#C1|general> <!here> &lt;tag&gt; &amp; <https://example.org>",
        "slack",
    )
    assert "hi @bob and @U999" in html
    assert (
        '<a href="https://example.org/a?b=1&amp;c=2" rel="noopener nofollow">the docs</a>' in html
    )
    assert "#general" in html
    assert "@here" in html
    assert "&lt;tag&gt; &amp;" in html  # Slack's own escaping is undone once, then escaped
    assert '<a href="https://example.org" rel="noopener nofollow">https://example.org</a>' in html


def test_it_escapes_hostile_slack_markup() -> None:
    html = render_body(
        f"<@U1|{SCRIPT}> <https://ok.example|{IMG}> <javascript:alert(1)|x> "
        '<https://ok.example/"onmouseover="alert(1)|y>',
        "slack",
    )
    assert_safe(html)
    # Markup holding < or > is not Slack's: it is shown as the text it is.
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="https://ok.example/&quot;onmouseover=&quot;alert(1)"' in html


def test_it_accepts_only_absolute_web_urls() -> None:
    assert http_url_or_empty("https://example.org/x") == "https://example.org/x"
    assert http_url_or_empty("HTTP://example.org") == "HTTP://example.org"
    for bad in (
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,x",
        "/local",
        "//evil.example",
        "https://",
        None,
        42,
        "http://[::1",
    ):
        assert http_url_or_empty(bad) == ""


@pytest.fixture
def hostile_data(db: None, tmp_path: Path) -> list[ImportRun]:
    """Hostile payloads in every imported field a page shows, through the real importers."""
    export = SlackExport(tmp_path / "evil")
    export.user(
        "UEVIL", SCRIPT, IMG, display_name=JS_LINK, profile={"email": f"{SCRIPT}@evil.example"}
    )
    channel = "<svg onload=alert(1)>"
    export.channel("CEVIL", channel, purpose=SCRIPT)
    root = export.message(
        channel,
        "UEVIL",
        f"{HOSTILE} <javascript:alert(2)|click me>",
        1_600_000_000,
        reactions={IMG: ["UEVIL"]},
    )
    export.message(channel, "UEVIL", f"reply {IMG}", 1_600_000_100, thread_ts=root)
    export.raw_message(channel, "2020-09-13", {"type": "message", "user": "UEVIL", "text": SCRIPT})
    slack_run = import_export("slack", export.write(), source=f"slack {SCRIPT}")

    start = datetime(2024, 1, 1, tzinfo=UTC)
    html_run = write_records(
        source=f"fedi {IMG}",
        platform="mastodon",
        records=[
            ChannelRecord("c", name=SCRIPT, url="javascript:alert(1)"),
            IdentityRecord("a", handle=IMG, display_name=SCRIPT, profile_url="javascript:alert(1)"),
            ConversationRecord(
                "t", started_at=start, title=SCRIPT, channel_id="c", url="javascript:alert(2)"
            ),
            InteractionRecord(
                "p",
                InteractionKind.POST,
                start,
                author_id="a",
                channel_id="c",
                conversation_id="t",
                text=f"<p>{HOSTILE}</p>",
                url="javascript:alert(3)",
            ),
            InteractionRecord(
                "r",
                InteractionKind.REPLY,
                start,
                author_id="a",
                channel_id="c",
                conversation_id="t",
                parent_id="p",
                text=HOSTILE,
            ),
        ],
    )
    return [slack_run, html_run]


def every_page(
    runs: Sequence[ImportRun], *, staff: User, label: str, keywords: list[str]
) -> list[str]:
    """Fill every page from these imports, then list the URL of each page a member of staff
    can open (one per member, conversation, care item, message...); `pages_not_walked` says
    which are left out. Every message is flagged, waits for a reply and makes its author a
    newcomer the day after its source's last message, so it shows in care, inbox and
    moderation; `staff` saves what every message taught the team; every message mentions a
    tracked term `label`, and has `keywords`; a segment and a webhook are named `label`. The
    weekly digests of the imports' weeks are built and mailed."""
    urls: list[str] = []
    enrich_pending()
    Enrichment.objects.update(is_toxic=True, toxicity=0.99)
    flag_interactions(list(Interaction.objects.values_list("id", flat=True)))
    # The latest flagged message is escalated to the admins, with `label` as the reason.
    escalated = ModerationItem.objects.order_by("-interaction__created_at", "-id").first()
    assert escalated is not None
    do_moderate(item=escalated, actor=staff, action="escalate", reason=label)
    latest = list(
        Interaction.objects.order_by()
        .values("source_id")
        .annotate(last=Max("created_at"))
        .values_list("last", flat=True)
    )
    for moment in latest:
        refresh_queue(moment + timedelta(days=1))
    assert CareItem.objects.exists() and ConversationState.objects.exists()
    messages = Interaction.objects.filter(kind__in=TEXT_KINDS).order_by("id")
    for message in messages.filter(member__isnull=False).select_related("member", "source"):
        entry = do_add_knowledge_from_message(interaction=message, created_by=staff)
        urls.append(reverse("memory_edit_knowledge", args=[entry.pk]))
    term = TrackedTerm.objects.create(term=label, created_by=staff)
    TermMatch.objects.bulk_create(TermMatch(term=term, interaction=m) for m in messages)

    urls += [reverse("home"), reverse("members"), reverse("conversations"), reverse("imports")]
    urls += [reverse("members") + "?" + f"q={label}"]
    urls += [reverse(name, args=[m.pk]) for m in Member.objects.all() for name in MEMBER_PAGES]
    first_two = list(Member.objects.order_by("pk").values_list("pk", flat=True)[:2])
    urls += [reverse("member_merge_confirm", args=first_two)]
    urls += [reverse("members_tag_all", query={"q": label})]
    urls += [reverse("merges"), reverse("member_audit")]
    urls += [reverse("conversation", args=[c.pk]) for c in Conversation.objects.all()]
    urls += [reverse("conversations") + f"?source={s.pk}" for s in Source.objects.all()]
    urls += [reverse("correct_labels", args=[m.pk]) for m in messages]
    urls += [reverse("terms"), reverse("term", args=[term.pk])]
    urls += [reverse("import_run", args=[run.pk]) for run in runs]
    urls += [reverse("care"), reverse("care", query={"status": "closed"}), reverse("settings")]
    urls += [reverse("care_item", args=[item.pk]) for item in CareItem.objects.all()]
    urls += [reverse("care_settings"), reverse("inbox"), reverse("inbox_replies")]
    urls += [reverse("inbox_count"), reverse("moderation_pending_count")]
    urls += [
        reverse(name, args=[c])
        for c in ConversationState.objects.values_list("conversation_id", flat=True)
        for name in ("inbox_conversation", "inbox_compose")
    ]
    urls += [reverse("moderation"), reverse("moderation_log"), reverse("moderation_words")]
    urls += [reverse("moderation", query={"status": "escalated"})]
    urls += [reverse("staff")]
    # Webhooks: a URL named `label`, and a delivery of every care item naming its member.
    hook = Subscription.objects.create(url=f"http://127.0.0.1:9/{label}", events=["spike"])
    items = care_item_payloads(CareItem.objects.values_list("id", flat=True))
    file_deliveries("care_item.created", items, [hook.pk])
    urls += [reverse("webhooks"), reverse("webhook", args=[hook.pk])]
    urls += [reverse("webhook_deliveries", args=[hook.pk])]
    # The weekly digests of the imports' weeks: their pages, and the HTML email sent.
    weeks = sorted({week_of(moment) for moment in latest})
    digests = [do_build_digest(week_start=week) for week in weeks]
    for digest in digests:
        do_send_digest(digest=digest)
    urls += [reverse("digest_list")]
    urls += [reverse("digest", args=[week.isoformat()]) for week in weeks]
    # Reports over the imports: their topics, a helper thanked, a segment.
    Enrichment.objects.update(keywords=keywords)
    thanker, helper = Member.objects.filter(interactions__isnull=False).distinct()[:2]
    said = Interaction.objects.filter(member=thanker).first()
    assert said is not None
    Thanks.objects.create(
        interaction=said, from_member=thanker, to_member=helper, created_at=said.created_at
    )
    segment = Segment.objects.create(name=label, filters={"q": label})
    urls += [reverse("segments")]
    first, last = Interaction.objects.aggregate(
        first=Min("created_at"), last=Max("created_at")
    ).values()
    report = {"range": "custom", "since": f"{first:%Y-%m-%d}", "until": f"{last:%Y-%m-%d}"}
    urls += [reverse("reports", query=report), reverse("reports", query={"segment": segment.pk})]
    urls += [reverse("report_chart", args=[slug], query=report) for slug in CHARTS]
    urls += [reverse("pulse"), reverse("pulse", query=report), reverse("pulse_alerts")]
    return urls


# Each member's own pages besides their profile: merging them, erasing them.
MEMBER_PAGES = ("member", "member_merge", "member_erase")
# The pages `every_page` leaves out, and why.
NOT_WALKED = {
    "inbox_reply": "a saved reply's edit form: staff's own words",
    "memory_edit_note": "a note's edit form: staff's own words",
    "upload": "an upload's progress, which links to its import run",
    "segment": "a redirect to the member list with the segment's filters",
    "digest_latest": "a redirect to the latest week's digest",
    "report_csv": "a chart's table as a download",
    "report_parquet": "a chart's table as a download",
    "members_export": "the member list as a download",
    "member_export": "a privacy request's download of everything about a member",
}


def pages_not_walked(client: Client, urls: list[str]) -> list[str]:
    """The pages (URL names) that answer a GET but `every_page` does not list, nor
    NOT_WALKED: a new page must join the walk. The others take only a POST."""
    walked = {resolve(url.split("?", 1)[0]).url_name for url in urls}
    missing = []
    for pattern in _page_patterns():
        if pattern.name in walked or pattern.name in NOT_WALKED:
            continue
        if client.get(_url(pattern)).status_code != 405:
            missing.append(str(pattern.name))
    return missing


@pytest.mark.django_db
def test_it_escapes_hostile_imports_on_every_page(
    alice: User, alice_client: Client, hostile_data: list[ImportRun]
) -> None:
    urls = every_page(hostile_data, staff=alice, label=SCRIPT, keywords=[SCRIPT, IMG])
    assert pages_not_walked(alice_client, urls) == []
    seen = ""
    for url in urls:
        response = alice_client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert_safe(page)
        seen += page
    emails = [m for m in mail.outbox if m.subject.startswith("[Townsquare] Weekly digest")]
    assert len(emails) == 2
    for email in emails:
        html = str(email.alternatives[0][0])  # type: ignore[attr-defined]
        assert_safe(html)
        assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in html
    # The payloads were shown, as text.
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in seen
    assert "&lt;img src=x onerror=alert(1)&gt;" in seen
    assert "#&lt;svg onload=alert(1)&gt;" in seen
    assert "click me" in seen
