"""The moderation pages: the review queue, the audit log and the watched words. Everyone with
a role reads them; moderators and above act."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from townsquare.front.access import can_moderate, can_read, requires
from townsquare.front.views import is_htmx, render_listing, safe_next
from townsquare.moderation import queries
from townsquare.moderation.forms import (
    DecisionForm,
    LogFilterForm,
    QueueFilterForm,
    WatchedWordForm,
)
from townsquare.moderation.models import ModerationActionKind, WatchedWord
from townsquare.moderation.services import (
    ADMINS_ONLY,
    do_moderate,
    do_pause_word,
    do_watch_word,
    may_decide,
)

QUEUE_PAGE_SIZE = 25
LOG_PAGE_SIZE = 50
# What the page says once a decision is made.
DONE = {
    ModerationActionKind.APPROVE: "Approved.",
    ModerationActionKind.HIDE: "Hidden: Townsquare no longer shows its text.",
    ModerationActionKind.ESCALATE: "Escalated to admins: they are emailed and decide it.",
    ModerationActionKind.FALSE_POSITIVE: "Marked as a false positive; its labels are corrected.",
    ModerationActionKind.DEESCALATE: "Sent back to the queue.",
}


@requires(can_read)
@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    """The review queue: flagged messages in their context, with the moderators' actions."""
    filters = QueueFilterForm(request.GET)
    chosen = filters.values()
    page = Paginator(queries.queue(**chosen), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    queries.prepare_page(page.object_list)
    context = {
        "section": "moderation",
        "filters": filters,
        "chosen": chosen,
        "page": page,
        "can_moderate": can_moderate(request.user),
    }
    return render_listing(
        request,
        "moderation/queue.html",
        context,
        partial="moderation/_queue_results.html",
        target="queue-results",
    )


@requires(can_read)
@require_POST
def decide(request: HttpRequest, item_id: int) -> HttpResponse:
    """A moderator's decision on one item; only an admin decides an item escalated to the
    admins (403 for anyone else). htmx gets the item back in place; a plain form post goes back
    to the queue with a message."""
    if not can_moderate(request.user):
        raise PermissionDenied("Only moderators, managers and admins can act on flagged messages.")
    item = get_object_or_404(queries.queue(), pk=item_id)
    if not may_decide(request.user, item):  # type: ignore[arg-type]
        raise PermissionDenied(ADMINS_ONLY)
    back = safe_next(request, reverse("moderation"))
    form = DecisionForm(request.POST)
    error = done = ""
    if not form.is_valid():
        error = "Choose approve, hide, escalate, false positive or send back to the queue."
    else:
        action = form.cleaned_data["action"]
        try:
            do_moderate(
                item=item,
                actor=request.user,  # type: ignore[arg-type]
                action=action,
                reason=form.cleaned_data["reason"],
            )
        except ValueError as e:
            error = str(e)
        else:
            done = DONE[ModerationActionKind(action)]
    if not is_htmx(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done)
        return HttpResponseRedirect(back)
    # htmx swaps only successful responses: an error is shown in place with a 200.
    item = get_object_or_404(queries.queue(), pk=item.pk)
    queries.prepare_page([item])
    context = {
        "item": item,
        "can_moderate": True,
        "error": error,
        "done": done,
        "reason": request.POST.get("reason", "") if error else "",
        "next": back,
    }
    return render(request, "moderation/_item.html", context)


@requires(can_read)
@require_safe
def log(request: HttpRequest) -> HttpResponse:
    """The audit log: who did what to which flagged message, when, and why."""
    filters = LogFilterForm(request.GET)
    chosen = filters.values()
    page = Paginator(queries.audit_log(**chosen), LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"section": "moderation", "filters": filters, "chosen": chosen, "page": page}
    return render_listing(
        request,
        "moderation/log.html",
        context,
        partial="moderation/_log_results.html",
        target="log-results",
    )


@requires(can_read)
@require_http_methods(["GET", "POST"])
def words(request: HttpRequest) -> HttpResponse:
    """The watched words, and the form to add one."""
    may_edit = can_moderate(request.user)
    form = WatchedWordForm()
    status = 200
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("Only moderators, managers and admins can add watched words.")
        form = WatchedWordForm(request.POST)
        if form.is_valid():
            word = do_watch_word(
                term=form.cleaned_data["term"],
                action=form.cleaned_data["action"],
                tag=form.cleaned_data["tag"],
                user=request.user,  # type: ignore[arg-type]
            )
            messages.success(
                request,
                f"Now watching “{word.term}”. Existing messages are being searched; "
                "new ones are checked as they are enriched.",
            )
            return redirect("moderation_words")
        status = 400
    context = {
        "section": "moderation",
        "words": queries.watched_words(),
        "form": form,
        "can_edit": may_edit,
    }
    return render(request, "moderation/words.html", context, status=status)


@requires(can_read)
@require_POST
def word_active(request: HttpRequest, word_id: int) -> HttpResponse:
    """Pause or resume a watched word. Resuming searches the messages it missed meanwhile."""
    if not can_moderate(request.user):
        raise PermissionDenied(
            "Only moderators, managers and admins can pause or resume watched words."
        )
    word = get_object_or_404(WatchedWord, pk=word_id)
    active = request.POST.get("active") == "1"
    do_pause_word(word=word, active=active)
    if active:
        messages.success(request, f"“{word.term}” is watched again.")
    else:
        messages.success(request, f"“{word.term}” is paused; what it flagged stays in the queue.")
    return redirect("moderation_words")


@requires(can_read)
@require_safe
def pending_count(request: HttpRequest) -> HttpResponse:
    """The number of pending items, for the main navigation (loaded after the page, so that
    no page pays a query for it)."""
    context = {"count": queries.pending_count()}
    return render(request, "moderation/_pending_count.html", context)
