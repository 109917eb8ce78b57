"""The pages: plain function views that read through `queries` and render a template."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_vary_headers

from townsquare.community.models import Conversation
from townsquare.connectors.models import ImportRun
from townsquare.front import queries
from townsquare.front.forms import ConversationFilterForm, MemberFilterForm

PAGE_SIZE = 50


class LoginView(auth_views.LoginView):
    """Django's login with our template. Throttling goes in `post`, before the form is read,
    keyed by username and client address."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Logs out on POST only (a link or an image cannot log anyone out), then says so."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out.")
        return response


def paginate(request: HttpRequest, items: QuerySet[Any], per_page: int = PAGE_SIZE) -> Page[Any]:
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


@login_required
def home(request: HttpRequest) -> HttpResponse:
    context = {
        "section": "home",
        "overview": queries.overview_counts(),
        "sources": queries.sources_with_latest_run(),
        "recent_conversations": queries.recent_conversations(10),
    }
    return render(request, "front/home.html", context)


@login_required
def members(request: HttpRequest) -> HttpResponse:
    form = MemberFilterForm(request.GET)
    filters = form.values()
    page = paginate(request, queries.members(**filters))
    context = {"section": "members", "form": form, "filters": filters, "page": page}
    return render_listing(
        request,
        "front/members.html",
        context,
        partial="front/_member_results.html",
        target="member-results",
    )


@login_required
def member(request: HttpRequest, member_id: int) -> HttpResponse:
    person = get_object_or_404(queries.member_with_identities(), pk=member_id)
    page = paginate(request, queries.member_timeline(person))
    queries.name_mentions(page.object_list)
    queries.name_mentions(
        [item.conversation for item in page.object_list if item.conversation], "title"
    )
    context = {
        "section": "members",
        "member": person,
        "identities": list(person.identities.all()),
        "kind_counts": queries.member_kind_counts(person),
        "channels": queries.member_channels(person),
        "page": page,
    }
    return render_listing(
        request,
        "front/member.html",
        context,
        partial="front/_member_timeline.html",
        target="member-timeline",
    )


@login_required
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


@login_required
def conversation(request: HttpRequest, conversation_id: int) -> HttpResponse:
    item = get_object_or_404(
        Conversation.objects.select_related("source", "channel"), pk=conversation_id
    )
    queries.name_mentions([item], "title")
    context = {
        "section": "conversations",
        "conversation": item,
        "thread": queries.conversation_thread(item),
    }
    return render(request, "front/conversation.html", context)


@login_required
def imports(request: HttpRequest) -> HttpResponse:
    page = paginate(request, queries.import_runs())
    context = {"section": "imports", "page": page}
    return render_listing(
        request,
        "front/imports.html",
        context,
        partial="front/_import_results.html",
        target="import-results",
    )


@login_required
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
