"""Building, showing and mailing the weekly digest (docs/digest.md).

A digest is built once per week and stored; while it has not been mailed, building it again
refreshes it (an import can bring a week's messages late); once mailed it stays as it was
mailed. Mailing claims the row with a conditional UPDATE first, so two workers, or the
scheduler and `townsquare digest --send`, never mail the same week twice.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from townsquare.community.models import Member
from townsquare.digest.content import (
    build_digest,
    check_week,
    community_zone,
    last_full_week,
    week_bounds,
)
from townsquare.digest.models import Digest, DigestOptOut

logger = logging.getLogger(__name__)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class WeekNotOver(ValueError):
    """A digest covers a whole week: this one has not ended yet."""


def do_build_digest(*, week_start: date, now: datetime | None = None) -> Digest:
    """The week's digest, built and stored when missing and rebuilt while not yet mailed; a
    mailed digest is returned as it was mailed."""
    check_week(week_start)
    now = now or timezone.now()
    if week_bounds(week_start)[1] > now:
        raise WeekNotOver(f"the week of {week_start:%Y-%m-%d} is not over yet")
    digest = Digest.objects.filter(week_start=week_start).first()
    if digest is not None and digest.sent_at is not None:
        return digest
    content = build_digest(week_start, now=now)
    digest, created = Digest.objects.get_or_create(
        week_start=week_start, defaults={"content": content, "built_at": now}
    )
    if not created:
        # Only while unsent: a mailing that started meanwhile keeps what it mails.
        Digest.objects.filter(pk=digest.pk, sent_at__isnull=True).update(
            content=content, built_at=now
        )
        digest.refresh_from_db()
    return digest


# Showing -------------------------------------------------------------------------------------


def named(content: dict[str, Any]) -> dict[str, Any]:
    """The stored content with each member's current name beside their id ("Erased member
    #12" after an erasure): one query. The stored content is left as it is."""
    content = copy.deepcopy(content)
    people = [
        *content["care"]["items"],
        *content["milestones"],
        *content["welcome"]["members"],
    ]
    ids = {p["member_id"] for p in people}
    names = dict(Member.objects.filter(pk__in=ids).values_list("pk", "display_name"))
    for person in people:
        person["name"] = names.get(person["member_id"], f"Member #{person['member_id']}")
    return content


def context(digest: Digest, *, site: str = "") -> dict[str, Any]:
    """What the digest's templates show; `site` prefixes links (the site's address in mail)."""
    return {"digest": digest, "d": named(digest.content), "site": site}


def render_text(digest: Digest) -> str:
    """The digest as plain text, as the email's text part and `townsquare digest --print`."""
    return render_to_string("digest/email.txt", context(digest, site=_site()))


def _site() -> str:
    return str(settings.SITE_URL).rstrip("/")


# Mailing -------------------------------------------------------------------------------------


def recipients() -> list[User]:
    """Active users with a staff role (superusers are admins) and an email address, who did
    not opt out; one per address."""
    users = (
        User.objects.filter(is_active=True)
        .exclude(email="")
        .filter(Q(is_superuser=True) | Q(staff_role__isnull=False))
        .exclude(pk__in=DigestOptOut.objects.values("user_id"))
        .order_by("email", "pk")
    )
    seen: set[str] = set()
    result = []
    for user in users:
        if user.email.lower() not in seen:
            seen.add(user.email.lower())
            result.append(user)
    return result


def _message(digest: Digest, user: User) -> EmailMultiAlternatives:
    site = _site()
    data = {**context(digest, site=site), "user": user}
    subject = f"[Townsquare] Weekly digest, {digest.content['week']['label']}"
    text = render_to_string("digest/email.txt", data)
    message = EmailMultiAlternatives(subject, text, None, [user.email])
    message.attach_alternative(render_to_string("digest/email.html", data), "text/html")
    return message


def do_send_digest(*, digest: Digest, now: datetime | None = None) -> int | None:
    """Mail the digest to every recipient, one message each; returns how many were sent, or
    None when the digest had already been mailed. If the mail server fails before the first
    message went out, the claim is released and the error raised: the next run tries again.
    A failure after that is logged, and the digest counts as mailed to those reached."""
    now = now or timezone.now()
    if not Digest.objects.filter(pk=digest.pk, sent_at__isnull=True).update(sent_at=now):
        return None
    sent = 0
    try:
        messages = [_message(digest, user) for user in recipients()]
        if messages:
            with get_connection() as connection:
                for message in messages:
                    sent += connection.send_messages([message]) or 0
    except Exception:  # SMTP errors come in many types
        if sent == 0:
            # Nothing went out: release the claim, so the next run (or a retry) mails it.
            Digest.objects.filter(pk=digest.pk, sent_at=now).update(sent_at=None)
            raise
        logger.exception("the digest of %s reached %s people only", digest.week_start, sent)
    Digest.objects.filter(pk=digest.pk).update(recipient_count=sent)
    digest.refresh_from_db()
    return sent


# Schedule ------------------------------------------------------------------------------------


def send_time(week_start: date) -> datetime:
    """When the week's digest is due: the configured weekday and hour (default Monday 08:00)
    after the week, in the community's time zone."""
    day = week_start + timedelta(days=7 + WEEKDAYS.index(settings.TOWNSQUARE_DIGEST_DAY))
    return datetime.combine(day, time(settings.TOWNSQUARE_DIGEST_HOUR), tzinfo=community_zone())


def due_week(now: datetime) -> date | None:
    """The last full week, when its send time has passed and it has not been mailed."""
    week = last_full_week(now)
    if now < send_time(week):
        return None
    if Digest.objects.filter(week_start=week, sent_at__isnull=False).exists():
        return None
    return week


@dataclass
class Outcome:
    week: date | None
    recipients: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "week": self.week.isoformat() if self.week else None,
            "recipients": self.recipients,
        }


def send_due_digest(now: datetime | None = None) -> Outcome:
    """Build and mail the last full week's digest if it is due; nothing otherwise."""
    now = now or timezone.now()
    week = due_week(now)
    if week is None:
        return Outcome(None, None)
    digest = do_build_digest(week_start=week, now=now)
    return Outcome(week, do_send_digest(digest=digest, now=now))


# Opting out ----------------------------------------------------------------------------------


def gets_email(user: User) -> bool:
    return not DigestOptOut.objects.filter(user=user).exists()


def do_set_digest_email(*, user: User, receive: bool) -> None:
    """Whether this user gets the digest by email (on by default)."""
    if receive:
        DigestOptOut.objects.filter(user=user).delete()
    else:
        DigestOptOut.objects.get_or_create(user=user)
