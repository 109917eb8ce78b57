"""The pages: plain function views that read through `queries` and render a template."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from townsquare.care import today
from townsquare.care.models import CareItem
from townsquare.care.models import Status as CareStatus
from townsquare.care.queries import care_history
from townsquare.community.models import Conversation, Interaction
from townsquare.connectors.models import ImportRun
from townsquare.front import (
    queries,
    views_identity,
    views_memory,
    views_privacy,
    views_profile,
)
from townsquare.front.access import (
    can_correct_labels,
    can_decide_escalations,
    can_edit_members,
    can_export_members,
    can_manage_terms,
    can_moderate,
    can_read,
    can_write_memory,
    requires,
)
from townsquare.front.forms import (
    ConversationFilterForm,
    LabelCorrectionForm,
    TrackedTermForm,
)
from townsquare.front.members_filters import MemberListForm, filter_members, listed
from townsquare.lib.paging import ReadOnce
from townsquare.listening.models import TrackedTerm
from townsquare.listening.services import do_correct_label, do_track_term
from townsquare.moderation.visibility import title_hidden

PAGE_SIZE = 50


class LoginView(auth_views.LoginView):
    """Django's login with our template. django-axes throttles it, keyed by username and client
    address (settings.AXES_*; the lockout page is townsquare/staff/lockout.py)."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Logs out on POST only (a link or an image cannot log anyone out), then says so."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out.")
        return response


def paginate(
    request: HttpRequest, items: QuerySet[Any] | ReadOnce[Any], per_page: int = PAGE_SIZE
) -> Page[Any]:
    """The page the query string asks for; a bad or too large number gives the last page."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def render_listing(
    request: HttpRequest, template: str, context: dict[str, Any], *, partial: str, target: str
) -> HttpResponse:
    """The whole page, or only its listing when htmx asks to refresh that listing in place."""
    headers = request.headers
    wants_partial = (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Target") == target
        and headers.get("HX-History-Restore-Request") != "true"
    )
    response = render(request, partial if wants_partial else template, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@requires(can_read)
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """Today: who to reach first and why, spikes, questions waiting, milestones, and what
    changed since yesterday."""
    now = timezone.now()
    context = {
        "section": "home",
        "items": today.top_items(),
        "open_count": CareItem.objects.filter(status=CareStatus.OPEN).count(),
        "unanswered": today.unanswered(now),
        "spikes": today.spikes(now),
        "milestones": today.milestones(),
        "changes": today.changes(now),
        "sources": queries.sources_with_latest_run(),
        # Only admins decide escalated messages: only they are shown how many wait.
        "escalated": (
            today.escalated_to_admins() if can_decide_escalations(request.user) else None
        ),
    }
    return render(request, "front/home.html", context)


@requires(can_read)
@require_safe
def members(request: HttpRequest) -> HttpResponse:
    form = MemberListForm(request.GET)
    form.load_choices()
    filters = form.filters()
    page = paginate(request, listed(filters, filter_members(filters)))
    context = {
        "section": "members",
        "form": form,
        "filters": filters,
        "query": urlencode(filters.params()),
        "can_edit": can_edit_members(request.user),
        "can_export": can_export_members(request.user),
        "page": page,
    }
    return render_listing(
        request,
        "front/members.html",
        context,
        partial="front/_member_results.html",
        target="member-results",
    )


@requires(can_read)
@require_safe
def member(request: HttpRequest, member_id: int) -> HttpResponse:
    person = get_object_or_404(queries.member_with_identities(), pk=member_id)
    if person.merged_into_id is not None:  # merged: the person lives on the absorbing member
        return redirect("member", person.merged_into_id)
    timeline = views_profile.TimelineFilterForm(request.GET)
    page = paginate(request, queries.member_timeline(person, **timeline.values()))
    queries.name_mentions(page.object_list)
    queries.attach_labels(page.object_list)
    queries.name_mentions(
        [item.conversation for item in page.object_list if item.conversation], "title"
    )
    context = {
        "section": "members",
        "member": person,
        "identities": list(person.identities.all()),
        "can_correct": can_correct_labels(request.user),
        "kind_counts": queries.member_kind_counts(person),
        "channels": queries.member_channels(person),
        "page": page,
        **views_profile.profile_context(person, timeline, sees_hidden=can_moderate(request.user)),
        **views_memory.member_memory(request, person),
        **views_privacy.member_privacy(request),
        **views_identity.member_identity_context(request, person),
        "care_items": care_history(person),
    }
    return render_listing(
        request,
        "front/member.html",
        context,
        partial="front/_member_timeline.html",
        target="member-timeline",
    )


@requires(can_read)
@require_safe
def conversations(request: HttpRequest) -> HttpResponse:
    form = ConversationFilterForm(request.GET)
    page = paginate(request, queries.conversations(**form.values()))
    queries.name_mentions(page.object_list, "title")
    context = {"section": "conversations", "form": form, "page": page}
    return render_listing(
        request,
        "front/conversations.html",
        context,
        partial="front/_conversation_results.html",
        target="conversation-results",
    )


@requires(can_read)
@require_safe
def conversation(request: HttpRequest, conversation_id: int) -> HttpResponse:
    item = get_object_or_404(
        Conversation.objects.select_related("source", "channel").annotate(
            title_hidden=title_hidden()
        ),
        pk=conversation_id,
    )
    queries.name_mentions([item], "title")
    context = {
        "section": "conversations",
        "conversation": item,
        "thread": queries.conversation_thread(item),
        "can_correct": can_correct_labels(request.user),
        "can_write_memory": can_write_memory(request.user),
        "can_moderate": can_moderate(request.user),
    }
    return render(request, "front/conversation.html", context)


@requires(can_read)
@require_safe
def import_run(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(ImportRun.objects.select_related("source"), pk=run_id)
    page = paginate(request, run.rejected.order_by("id"))
    context = {
        "section": "imports",
        "run": run,
        "count_table": queries.run_count_table(run),
        "page": page,
    }
    return render_listing(
        request,
        "front/import_run.html",
        context,
        partial="front/_rejected_results.html",
        target="rejected-results",
    )


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The `next` the request carries when it points into this site, else the fallback."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return fallback


def _message_url(item: Interaction) -> str:
    if item.conversation is not None:
        return f"{item.conversation.get_absolute_url()}#i{item.pk}"
    if item.member_id and item.member is not None:
        return item.member.get_absolute_url()
    return "/"


@requires(can_read)
@require_http_methods(["GET", "POST"])
def correct_labels(request: HttpRequest, interaction_id: int) -> HttpResponse:
    """A person's labels for one message. GET: the form (only the form for htmx, which loads it
    when the disclosure opens). POST: one correction per changed field; htmx gets the message's
    labels back, a plain form post goes back to the page it came from."""
    if not can_correct_labels(request.user):
        raise PermissionDenied("Only moderators, managers and admins can correct labels.")
    rows = queries.labelled_interactions().filter(pk=interaction_id)
    item = get_object_or_404(rows)
    enrichment = queries.enrichment_of(item)
    next_url = safe_next(request, _message_url(item))
    prefix = f"c{item.pk}"
    status = 200
    if request.method == "POST":
        form = LabelCorrectionForm(request.POST, enrichment=enrichment, prefix=prefix)
        if form.is_valid():
            changes = form.changes()
            try:
                for field, value in changes.items():
                    do_correct_label(
                        interaction=item,
                        field=field,
                        value=value,
                        user=request.user,  # type: ignore[arg-type]
                        note=form.cleaned_data["note"],
                    )
            except ValueError as e:
                form.add_error(None, str(e))
            else:
                saved = (
                    f"Saved {len(changes)} correction{'s' if len(changes) != 1 else ''}."
                    if changes
                    else "Nothing changed."
                )
                if not is_htmx(request):
                    messages.success(request, saved)
                    anchor = "" if "#" in next_url else f"#i{item.pk}"
                    return HttpResponseRedirect(next_url + anchor)
                item = get_object_or_404(queries.labelled_interactions().filter(pk=item.pk))
                queries.attach_labels([item])
                context = {"item": item, "can_correct": True, "next": next_url, "saved": saved}
                return render(request, "front/_labels.html", context)
        status = 400
    else:
        form = LabelCorrectionForm(enrichment=enrichment, prefix=prefix)
    queries.attach_labels([item])
    context = {"item": item, "form": form, "can_correct": True, "next": next_url}
    if is_htmx(request):
        # htmx swaps only successful responses: a form with errors is a 200 for it.
        template = "front/_labels.html" if request.method == "POST" else "front/_correct_form.html"
        return render(request, template, context)
    context["section"] = "conversations" if item.conversation_id else "members"
    return render(request, "front/correct_labels.html", context, status=status)


@requires(can_read)
@require_http_methods(["GET", "POST"])
def terms(request: HttpRequest) -> HttpResponse:
    """The tracked terms, and the form to add one."""
    may_manage = can_manage_terms(request.user)
    form = TrackedTermForm()
    status = 200
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied("Only managers and admins can add tracked terms.")
        form = TrackedTermForm(request.POST)
        if form.is_valid():
            term = do_track_term(
                term=form.cleaned_data["term"],
                kind=form.cleaned_data["kind"],
                user=request.user,  # type: ignore[arg-type]
            )
            messages.success(
                request,
                f"Now tracking “{term.term}”. Existing messages are being searched; "
                "new ones are tagged as they are enriched.",
            )
            return redirect("terms")
        status = 400
    context = {
        "section": "terms",
        "terms": queries.tracked_terms(),
        "form": form,
        "can_manage": may_manage,
    }
    return render(request, "front/terms.html", context, status=status)


@requires(can_read)
@require_safe
def term(request: HttpRequest, term_id: int) -> HttpResponse:
    """The messages that mention one tracked term, newest first."""
    tracked = get_object_or_404(TrackedTerm.objects.select_related("created_by"), pk=term_id)
    page = paginate(request, queries.term_matches(tracked))
    queries.name_mentions(page.object_list)
    queries.attach_labels(page.object_list)
    context = {
        "section": "terms",
        "term": tracked,
        "page": page,
        "can_correct": can_correct_labels(request.user),
        "can_manage": can_manage_terms(request.user),
    }
    return render_listing(
        request, "front/term.html", context, partial="front/_term_matches.html", target="matches"
    )


@requires(can_read)
@require_POST
def term_active(request: HttpRequest, term_id: int) -> HttpResponse:
    """Pause or resume a tracked term. Resuming searches the messages it missed meanwhile."""
    if not can_manage_terms(request.user):
        raise PermissionDenied("Only managers and admins can pause or resume tracked terms.")
    tracked = get_object_or_404(TrackedTerm, pk=term_id)
    if request.POST.get("active") == "1":
        do_track_term(term=tracked.term, kind=tracked.kind, user=request.user)  # type: ignore[arg-type]
        messages.success(request, f"“{tracked.term}” is tracked again.")
    else:
        TrackedTerm.objects.filter(pk=tracked.pk).update(is_active=False)
        messages.success(request, f"“{tracked.term}” is paused; the matches found stay listed.")
    return redirect(safe_next(request, reverse("terms")))


@requires(can_read)
@require_safe
def settings_hub(request: HttpRequest) -> HttpResponse:
    """Every setting page in one place; each page checks who may change it."""
    return render(request, "front/settings.html", {"section": "settings"})
