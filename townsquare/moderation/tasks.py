"""Background tasks of moderation, through Django's Tasks API (as listening's)."""

from __future__ import annotations

from django_tasks import task


@task()
def scan_word_task(word_id: int) -> int:
    """Search the messages already there for a newly watched (or resumed) word."""
    from townsquare.moderation.models import WatchedWord
    from townsquare.moderation.services import scan_word

    word = WatchedWord.objects.filter(id=word_id, is_active=True).first()
    return scan_word(word) if word else 0


@task()
def email_escalation_task(action_id: int) -> int:
    """Tell the admins that a flagged message was escalated to them."""
    from townsquare.moderation.escalation import email_escalation

    return email_escalation(action_id)
