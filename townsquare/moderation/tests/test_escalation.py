"""Escalation hands a flagged message to the admins: each is emailed, only they decide it, and
they can send it back to the queue."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse

from townsquare.connectors.models import ImportRun
from townsquare.lib.testing import make_staff
from townsquare.moderation.escalation import EXCERPT_CHARS
from townsquare.moderation.models import ModerationAction, ModerationItem
from townsquare.moderation.services import EscalatedToAdmins, do_moderate
from townsquare.moderation.tests.conftest import (
    IMMEDIATE_TASKS,
    SPAM,
    TOXIC,
    CaptureOnCommit,
    import_community,
    item_of,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
LOCKED = "Only an admin can decide a message escalated to the admins"


@pytest.fixture
def admins(db: None) -> list[User]:
    """Two admins with an address (one by role, one a superuser), and two who get no mail: one
    without an address, one deactivated."""
    ada = make_staff("ada", role="admin")
    root = make_staff("root", superuser=True)
    no_address = make_staff("noaddress", role="admin")
    no_address.email = ""
    no_address.save()
    gone = make_staff("gone", role="admin")
    gone.is_active = False
    gone.save()
    return [ada, root]


@pytest.fixture
def manager(db: None) -> User:
    return make_staff("manny", role="manager")


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def escalate(
    capture: CaptureOnCommit, settings: Any, item: ModerationItem, actor: User, reason: str
) -> ModerationAction:
    """Escalate, commit, and let the worker send the mail at once."""
    settings.TASKS = IMMEDIATE_TASKS
    with capture(execute=True):
        return do_moderate(item=item, actor=actor, action="escalate", reason=reason)


def decide(client: Client, item: ModerationItem, action: str, reason: str = "", **kw: Any) -> Any:
    url = reverse("moderation_decide", args=[item.pk])
    return client.post(url, {"action": action, "reason": reason}, **kw)


def html_part(email: Any) -> str:
    (content, mimetype), *_ = email.alternatives
    assert mimetype == "text/html"
    return str(content)


# The email -----------------------------------------------------------------------------------


def test_escalating_emails_each_active_admin_with_an_address_once(
    community: ImportRun,
    moderator: User,
    manager: User,
    admins: list[User],
    django_capture_on_commit_callbacks: CaptureOnCommit,
    settings: Any,
) -> None:
    settings.SITE_URL = "https://town.example/"
    item = item_of(TOXIC)

    escalate(django_capture_on_commit_callbacks, settings, item, moderator, "Threatens others")

    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.org", "root@example.org"]
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in mail.outbox)
    email = mail.outbox[0]
    assert email.subject == "[Townsquare] A flagged message was escalated to admins"
    html = html_part(email)
    link = f"https://town.example/moderation/?status=escalated#m{item.pk}"
    assert email.body.startswith("mo escalated a flagged message to the admins.")
    assert "<strong>mo</strong> escalated a flagged message to the admins." in html
    for body in (str(email.body), html):
        assert "Threatens others" in body
        assert TOXIC in body
        assert "Rude Ronnie" in body and "#general" in body
    assert f"Decide it in Townsquare: {link}" in email.body
    assert f'<a href="{link}">' in html


def test_an_admin_who_escalates_is_not_emailed_their_own_escalation(
    community: ImportRun,
    admins: list[User],
    django_capture_on_commit_callbacks: CaptureOnCommit,
    settings: Any,
) -> None:
    ada, root = admins

    escalate(django_capture_on_commit_callbacks, settings, item_of(SPAM), ada, "Second opinion")

    assert [m.to for m in mail.outbox] == [[root.email]]


def test_the_email_escapes_hostile_text_and_quotes_only_an_excerpt(
    db: None,
    tmp_path: Path,
    moderator: User,
    admins: list[User],
    django_capture_on_commit_callbacks: CaptureOnCommit,
    settings: Any,
) -> None:
    hostile = '<script>alert("x")</script> you stupid idiot <img src=x onerror=alert(1)> '
    tail = "THE-END-OF-A-LONG-MESSAGE"
    text = hostile + "moron " * 80 + tail
    import_community(tmp_path / "hostile", toxic=text)
    item = item_of(text)
    do_moderate(item=item, actor=moderator, action="hide", reason="Abusive")

    escalate(django_capture_on_commit_callbacks, settings, item, moderator, "<i>why</i>")

    assert len(mail.outbox) == 2
    email = mail.outbox[0]
    html = html_part(email)
    assert "<script>" not in html and "<img src=x" not in html and "<i>why</i>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;i&gt;why&lt;/i&gt;" in html
    # The plain-text part is text: no HTML entities in it.
    assert '<script>alert("x")</script>' in email.body and "<i>why</i>" in email.body
    # A hidden message's words still reach admins, who may read them; only an excerpt.
    assert "you stupid idiot" in email.body
    assert tail not in email.body and tail not in html
    assert len(text) > EXCERPT_CHARS


def test_a_mail_failure_never_fails_the_decision_and_is_logged_without_personal_data(
    community: ImportRun,
    moderator: User,
    admins: list[User],
    django_capture_on_commit_callbacks: CaptureOnCommit,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A mail server that refuses connections: nothing listens on the discard port.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    item = item_of(TOXIC)

    with caplog.at_level(logging.WARNING, logger="townsquare.moderation.escalation"):
        entry = escalate(django_capture_on_commit_callbacks, settings, item, moderator, "Unsure")

    item.refresh_from_db()
    assert item.status == "escalated"
    assert ModerationAction.objects.get() == entry
    assert [r.getMessage() for r in caplog.records] == [
        f"escalation email of moderation action {entry.pk} reached 0 of 2 admin(s): "
        "ConnectionRefusedError"
    ]
    logged = caplog.text
    assert "example.org" not in logged and "idiot" not in logged and "Unsure" not in logged


def test_a_rolled_back_escalation_emails_nobody(
    community: ImportRun,
    moderator: User,
    admins: list[User],
    django_capture_on_commit_callbacks: CaptureOnCommit,
    settings: Any,
) -> None:
    settings.TASKS = IMMEDIATE_TASKS
    item = item_of(TOXIC)

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        do_moderate(item=item, actor=moderator, action="escalate", reason="Unsure")
        raise RuntimeError("the request failed after the decision")

    assert mail.outbox == []
    item.refresh_from_db()
    assert item.status == "pending"


# Who decides ---------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["approve", "hide", "false_positive", "deescalate"])
def test_only_an_admin_decides_an_escalated_message(
    community: ImportRun,
    moderator: User,
    manager: User,
    admins: list[User],
    action: str,
) -> None:
    item = item_of(TOXIC)
    do_moderate(item=item, actor=moderator, action="escalate", reason="Unsure")

    for someone in (moderator, manager):
        with pytest.raises(EscalatedToAdmins, match="only an admin can decide it"):
            do_moderate(item=item, actor=someone, action=action, reason="Fine")
        item.refresh_from_db()
        assert (item.status, item.decided_by) == ("escalated", moderator)
    assert ModerationAction.objects.count() == 1

    do_moderate(item=item, actor=admins[0], action=action, reason="Decided")

    item.refresh_from_db()
    assert item.status != "escalated"
    assert ModerationAction.objects.count() == 2


def test_de_escalating_sends_the_message_back_to_the_queue_with_an_audit_entry(
    community: ImportRun, moderator: User, admins: list[User]
) -> None:
    ada = admins[0]
    item = item_of(SPAM)
    do_moderate(item=item, actor=moderator, action="escalate", reason="Unsure")

    with pytest.raises(ValueError, match="a reason is required to send back to the queue"):
        do_moderate(item=item, actor=ada, action="deescalate", reason=" ")
    entry = do_moderate(item=item, actor=ada, action="deescalate", reason="Moderators decide")

    item.refresh_from_db()
    assert (item.status, item.decided_by, item.decided_at) == ("pending", None, None)
    assert (entry.actor, entry.action, entry.reason) == (ada, "deescalate", "Moderators decide")
    assert (entry.status_before, entry.status_after) == ("escalated", "pending")
    # Back in the queue, the moderators decide it again.
    do_moderate(item=item, actor=moderator, action="approve")
    item.refresh_from_db()
    assert item.status == "approved"
    with pytest.raises(ValueError, match="Only a message escalated to admins can be sent back"):
        do_moderate(item=item, actor=ada, action="deescalate", reason="Again")


def test_a_moderator_sees_who_escalated_and_why_with_the_actions_disabled(
    community: ImportRun, moderator: User, mo_client: Client
) -> None:
    item = item_of(TOXIC)
    do_moderate(item=item, actor=moderator, action="escalate", reason="Looks like a threat")

    html = mo_client.get(reverse("moderation")).content.decode()

    assert "Escalated to admins by mo: Looks like a threat" in html
    assert LOCKED in html
    assert f'action="{reverse("moderation_decide", args=[item.pk])}"' not in html
    assert html.count(f'disabled aria-describedby="locked-{item.pk}"') == 4
    # The other, pending item keeps its form.
    other = item_of(SPAM)
    assert f'action="{reverse("moderation_decide", args=[other.pk])}"' in html


def test_the_decide_page_refuses_a_moderator_on_an_escalated_message(
    community: ImportRun, moderator: User, mo_client: Client
) -> None:
    item = item_of(TOXIC)
    do_moderate(item=item, actor=moderator, action="escalate", reason="Unsure")

    for headers in ({}, HTMX):
        response = decide(mo_client, item, "approve", "Fine", headers=headers)
        assert response.status_code == 403
        assert "only an admin can decide it" in response.content.decode()
    item.refresh_from_db()
    assert item.status == "escalated"
    assert ModerationAction.objects.count() == 1


def test_an_admin_sends_an_escalated_message_back_in_place(
    community: ImportRun, moderator: User, admins: list[User]
) -> None:
    item = item_of(TOXIC)
    do_moderate(item=item, actor=moderator, action="escalate", reason="Unsure")
    admin = client_for(admins[0])

    queue = admin.get(reverse("moderation"), {"status": "escalated"}).content.decode()
    assert '<option value="escalated" selected>Escalated to admins</option>' in queue
    assert 'value="deescalate"' in queue and LOCKED not in queue

    response = decide(admin, item, "deescalate", "A moderator can judge this", headers=HTMX)

    assert response.status_code == 200
    assert "Sent back to the queue." in response.content.decode()
    item.refresh_from_db()
    assert item.status == "pending"
    assert ModerationAction.objects.filter(action="deescalate", actor=admins[0]).exists()
    log = admin.get(reverse("moderation_log")).content.decode()
    assert "A moderator can judge this" in log


# Today -------------------------------------------------------------------------------------


def test_today_shows_admins_how_many_messages_are_escalated_to_them(
    community: ImportRun, moderator: User, manager: User, admins: list[User]
) -> None:
    do_moderate(item=item_of(TOXIC), actor=moderator, action="escalate", reason="Unsure")
    stat = "flagged message escalated to admins"

    admin_home = client_for(admins[0]).get(reverse("home")).content.decode()
    assert f'<span class="stat-number">1</span> <span class="stat-label">{stat}' in admin_home
    assert f'href="{reverse("moderation")}?status=escalated"' in admin_home
    for someone in (moderator, manager):
        home = client_for(someone).get(reverse("home"))
        assert home.status_code == 200
        assert stat not in home.content.decode()
