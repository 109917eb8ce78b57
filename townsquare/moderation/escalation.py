"""Escalation emails: when a moderator escalates a flagged message, every active admin with an
email address is told, one message each, with the reason, an excerpt and a link to the item.

The mail is sent by the background worker once the decision is committed
(`services.queue_escalation_email`). A mail failure is logged and never undoes the decision: the
item waits under "Escalated to admins" in the queue and on Today all the same.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse

from townsquare.moderation.models import ModerationAction, ModerationItem, ModerationStatus
from townsquare.staff.models import Role
from townsquare.staff.roles import has_role

logger = logging.getLogger(__name__)

SUBJECT = "[Townsquare] A flagged message was escalated to admins"
# How much of the message the email quotes; the rest is a click away.
EXCERPT_CHARS = 300


def admin_recipients(*, besides: User | None = None) -> list[User]:
    """Active admins (superusers included) with an email address, one per address; `besides`
    (the admin who escalated, who needs no telling) left out."""
    users = (
        User.objects.filter(is_active=True)
        .exclude(email="")
        .filter(Q(is_superuser=True) | Q(staff_role__role=Role.ADMIN))
        .order_by("email", "pk")
    )
    if besides is not None:
        users = users.exclude(pk=besides.pk)
    seen: set[str] = set()
    result = []
    for user in users:
        if user.email.lower() not in seen:
            seen.add(user.email.lower())
            result.append(user)
    return result


def item_link(item_id: int) -> str:
    """The item in the queue, filtered to the escalated ones, as a full address."""
    query = urlencode({"status": ModerationStatus.ESCALATED.value})
    return f"{str(settings.SITE_URL).rstrip('/')}{reverse('moderation')}?{query}#m{item_id}"


def _context(entry: ModerationAction, item: ModerationItem, user: User) -> dict[str, Any]:
    return {
        "entry": entry,
        "item": item,
        "message": item.interaction,
        "excerpt_chars": EXCERPT_CHARS,
        "link": item_link(item.pk),
        "user": user,
        # Whether this reader may read a hidden message's words (visibility.py): admins may.
        "can_moderate": has_role(user, Role.MODERATOR),
    }


def escalation_message(
    entry: ModerationAction, item: ModerationItem, user: User
) -> EmailMultiAlternatives:
    data = _context(entry, item, user)
    text = render_to_string("moderation/email/escalated.txt", data)
    message = EmailMultiAlternatives(SUBJECT, text, None, [user.email])
    message.attach_alternative(
        render_to_string("moderation/email/escalated.html", data), "text/html"
    )
    return message


def email_escalation(entry_id: int) -> int:
    """Mail the escalation `entry_id` to the admins; returns how many messages went out.
    Nothing is sent when the item is gone or no longer escalated (an admin was quicker)."""
    entry = (
        ModerationAction.objects.select_related(
            "actor",
            "item__interaction__member",
            "item__interaction__channel",
            "item__interaction__source",
        )
        .filter(pk=entry_id)
        .first()
    )
    item = entry.item if entry is not None else None
    if entry is None or item is None or item.status != ModerationStatus.ESCALATED:
        return 0
    recipients = admin_recipients(besides=entry.actor)
    sent = 0
    try:
        messages = [escalation_message(entry, item, user) for user in recipients]
        if messages:
            with get_connection() as connection:
                for message in messages:
                    sent += connection.send_messages([message]) or 0
    except Exception as error:  # SMTP errors come in many types
        # Neither addresses nor the server's words (they may quote them): the kind of error.
        logger.warning(
            "escalation email of moderation action %s reached %s of %s admin(s): %s",
            entry_id,
            sent,
            len(recipients),
            type(error).__name__,
        )
    return sent
