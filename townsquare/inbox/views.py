"""The inbox pages: the conversations awaiting a reply, one conversation with its composer and
the opener's card, and the saved replies. Plain function views over `inbox.queries`; writes go
through `inbox.services`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from townsquare.community.models import Conversation, Identity, Member
from townsquare.front import queries as front_queries
from townsquare.front.access import (
    can_change_settings,
    can_correct_labels,
    can_read,
    can_work_care,
    can_write_memory,
    requires,
)
from townsquare.front.member_card import member_card
from townsquare.front.views import PAGE_SIZE, render_listing, safe_next
from townsquare.inbox import queries, services
from townsquare.inbox.forms import AnsweredForm, InboxFilterForm, SavedReplyForm
from townsquare.inbox.models import ConversationState, SavedReply
from townsquare.inbox.replies import fill, member_values, variable_list
from townsquare.moderation.visibility import title_hidden


def _worker(request: HttpRequest) -> User:
    """The signed-in user when they may work the inbox."""
    user = request.user
    if not can_work_care(user) or not isinstance(user, User):
        raise PermissionDenied(
            "Only managers and admins can claim conversations, write replies and mark them "
            "answered."
        )
    return user


def _settings_user(request: HttpRequest) -> User:
    user = request.user
    if not can_change_settings(user) or not isinstance(user, User):
        raise PermissionDenied("Only managers and admins can change the saved replies.")
    return user


@requires(can_read)
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET)
    form.load_choices()
    filters = form.filters()
    states = queries.awaiting(filters, user_id=request.user.pk, now=timezone.now())
    paginator = queries.InboxPaginator(states, PAGE_SIZE, exact=queries.counts_exactly(filters))
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = queries.prepare_rows(page.object_list)
    context = {
        "section": "inbox",
        "form": form,
        "filters": filters,
        "page": page,
        "can_work": can_work_care(request.user),
    }
    return render_listing(
        request, "inbox/inbox.html", context, partial="inbox/_results.html", target="inbox-results"
    )


@requires(can_read)
@require_safe
def inbox_count(request: HttpRequest) -> HttpResponse:
    """The nav's count, loaded by htmx after the page: no page pays for it up front."""
    return render(request, "inbox/_nav_count.html", {"count": queries.awaiting_count()})


def _conversation(conversation_id: int) -> Conversation:
    return get_object_or_404(
        Conversation.objects.select_related(
            "source", "channel", "state__opened_by", "state__answered_by", "claim__user"
        ).annotate(title_hidden=title_hidden()),
        pk=conversation_id,
    )


def _state(conversation: Conversation) -> ConversationState | None:
    try:
        return conversation.state
    except ConversationState.DoesNotExist:
        return None


def _reply_text(
    request: HttpRequest, conversation: Conversation, opener: Member | None, identities: Any
) -> tuple[SavedReply | None, str]:
    """The saved reply the query string chooses, filled in for the opener."""
    chosen = request.GET.get("reply", "")
    reply = SavedReply.objects.filter(pk=int(chosen)).first() if chosen.isdigit() else None
    if reply is None:
        return None, ""
    return reply, fill(reply.body, member_values(opener, conversation, identities))


@requires(can_read)
@require_safe
def conversation(request: HttpRequest, conversation_id: int) -> HttpResponse:
    item = _conversation(conversation_id)
    front_queries.name_mentions([item], "title")
    state = _state(item)
    thread = front_queries.conversation_thread(item)
    opener = state.opened_by if state is not None else None
    if state is None and thread.entries:  # not rolled up yet: the first message tells
        opener = thread.entries[0].interaction.member
    card = member_card(opener) if opener is not None else None
    can_work = can_work_care(request.user)
    context: dict[str, Any] = {
        "section": "inbox",
        "conversation": item,
        "state": state,
        "holder": queries.claim_of(item),
        "thread": thread,
        "card": card,
        "can_work": can_work,
        "can_correct": can_correct_labels(request.user),
        "can_write_memory": can_write_memory(request.user),
        "next": request.get_full_path(),
    }
    if can_work:
        identities = card["identities"] if card else []
        chosen, text = _reply_text(request, item, card["member"] if card else None, identities)
        context |= {
            "replies": list(SavedReply.objects.only("id", "title")),
            "chosen": chosen,
            "reply_text": text,
            "answered_form": AnsweredForm(),
        }
    return render(request, "inbox/conversation.html", context)


@requires(can_read)
@require_safe
def compose(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The composer's text for the chosen saved reply (htmx swaps it into the page)."""
    _worker(request)
    item = _conversation(conversation_id)
    state = _state(item)
    opener = state.opened_by if state is not None else None
    if opener is not None and opener.merged_into_id is not None:
        opener = Member.objects.get(pk=opener.merged_into_id)
    identities = list(Identity.objects.filter(member=opener)) if opener is not None else []
    _, text = _reply_text(request, item, opener, identities)
    return render(request, "inbox/_composer_text.html", {"reply_text": text})


def _back(request: HttpRequest, conversation_id: int) -> str:
    return safe_next(request, reverse("inbox_conversation", args=[conversation_id]))


@requires(can_read)
@require_POST
def claim(request: HttpRequest, conversation_id: int) -> HttpResponse:
    user = _worker(request)
    item = get_object_or_404(Conversation, pk=conversation_id)
    try:
        holder = services.do_claim(conversation=item, user=user)
    except services.InboxError as e:
        messages.error(request, str(e))
    else:
        if holder is None:
            messages.success(request, "You claimed this conversation: the team sees it is yours.")
        else:
            messages.error(
                request,
                f"Already claimed by {services.staff_name(holder)}: they are answering it.",
            )
    return redirect(_back(request, item.pk))


@requires(can_read)
@require_POST
def release(request: HttpRequest, conversation_id: int) -> HttpResponse:
    user = _worker(request)
    item = get_object_or_404(Conversation, pk=conversation_id)
    try:
        released = services.do_release(conversation=item, user=user)
    except services.InboxError as e:
        messages.error(request, str(e))
    else:
        if released:
            messages.success(request, "Released: anyone on the team can claim it now.")
        else:
            messages.info(request, "Nobody had claimed this conversation.")
    return redirect(_back(request, item.pk))


@requires(can_read)
@require_POST
def answered(request: HttpRequest, conversation_id: int) -> HttpResponse:
    user = _worker(request)
    item = get_object_or_404(Conversation, pk=conversation_id)
    form = AnsweredForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A link is at most 500 characters.")
        return redirect(_back(request, item.pk))
    try:
        services.do_mark_answered(conversation=item, user=user, link=form.cleaned_data["link"])
    except services.InboxError as e:
        messages.error(request, str(e))
        return redirect(_back(request, item.pk))
    messages.success(request, "Marked as answered: it has left the inbox.")
    return redirect("inbox")


@requires(can_read)
@require_POST
def reopen(request: HttpRequest, conversation_id: int) -> HttpResponse:
    _worker(request)
    item = get_object_or_404(Conversation, pk=conversation_id)
    state = services.do_reopen(conversation=item)
    if state.awaiting_reply:
        messages.success(request, "No longer marked answered: it is back in the inbox.")
    else:
        messages.success(request, "No longer marked answered; someone replied, so it stays out.")
    return redirect(_back(request, item.pk))


def _replies_page(
    request: HttpRequest, form: SavedReplyForm, *, reply: SavedReply | None, status: int = 200
) -> HttpResponse:
    context = {
        "section": "inbox",
        "replies": SavedReply.objects.select_related("created_by"),
        "form": form,
        "editing": reply,
        "can_change": can_change_settings(request.user),
        "variables": variable_list(),
    }
    template = "inbox/reply_edit.html" if reply is not None else "inbox/replies.html"
    return render(request, template, context, status=status)


def _save_reply(
    request: HttpRequest, user: User, reply: SavedReply | None
) -> HttpResponse | SavedReplyForm:
    """Save the posted form: a redirect when it worked, else the form with its errors."""
    form = SavedReplyForm(request.POST, instance=reply)
    if form.is_valid():
        try:
            saved = services.do_save_reply(
                reply=reply,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                user=user,
            )
        except services.InboxError as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, f"Saved reply “{saved.title}” saved.")
            return redirect("inbox_replies")
    return form


@requires(can_read)
@require_http_methods(["GET", "POST"])
def replies(request: HttpRequest) -> HttpResponse:
    """The saved replies, and the form to add one."""
    if request.method == "POST":
        result = _save_reply(request, _settings_user(request), None)
        if isinstance(result, HttpResponse):
            return result
        return _replies_page(request, result, reply=None, status=400)
    return _replies_page(request, SavedReplyForm(), reply=None)


@requires(can_read)
@require_http_methods(["GET", "POST"])
def reply_edit(request: HttpRequest, reply_id: int) -> HttpResponse:
    user = _settings_user(request)
    reply = get_object_or_404(SavedReply, pk=reply_id)
    if request.method == "POST":
        result = _save_reply(request, user, reply)
        if isinstance(result, HttpResponse):
            return result
        return _replies_page(request, result, reply=reply, status=400)
    return _replies_page(request, SavedReplyForm(instance=reply), reply=reply)


@requires(can_read)
@require_POST
def reply_delete(request: HttpRequest, reply_id: int) -> HttpResponse:
    _settings_user(request)
    reply = get_object_or_404(SavedReply, pk=reply_id)
    services.do_delete_reply(reply=reply)
    messages.success(request, f"Saved reply “{reply.title}” deleted.")
    return redirect("inbox_replies")
