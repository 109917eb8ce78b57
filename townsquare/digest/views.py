"""The digest pages: past digests, one digest, and the signed-in user's email choice."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from townsquare.digest import services
from townsquare.digest.models import Digest
from townsquare.front.access import can_read, requires

DIGESTS_PER_PAGE = 26


def _digest(week: str) -> Digest:
    try:
        day = date.fromisoformat(week)
    except ValueError:
        raise Http404("No digest for this week.") from None
    return get_object_or_404(Digest, week_start=day)


@requires(can_read)
@require_safe
def digest_list(request: HttpRequest) -> HttpResponse:
    digests = Digest.objects.only("week_start", "built_at", "sent_at", "recipient_count")
    page = Paginator(digests, DIGESTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "digest/list.html", {"section": "home", "page": page})


@requires(can_read)
@require_safe
def latest(request: HttpRequest) -> HttpResponse:
    """The newest digest, or the list (which says when the first one comes) while none."""
    newest = Digest.objects.only("week_start").first()
    if newest is None:
        return redirect("digest_list")
    return redirect("digest", week=newest.week_start.isoformat())


@requires(can_read)
@require_safe
def digest(request: HttpRequest, week: str) -> HttpResponse:
    shown = _digest(week)
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - a role implies a signed-in user
    context = {
        **services.context(shown),
        "section": "home",
        "gets_email": services.gets_email(user),
        "has_email": bool(user.email),
        "newer": Digest.objects.filter(week_start__gt=shown.week_start)
        .order_by("week_start")
        .only("week_start")
        .first(),
        "older": Digest.objects.filter(week_start__lt=shown.week_start).only("week_start").first(),
    }
    return render(request, "digest/digest.html", context)


@requires(can_read)
@require_POST
def email_choice(request: HttpRequest, week: str) -> HttpResponse:
    """Every role may choose whether the digest comes to them by email: the only thing a
    viewer changes, and only for themselves."""
    shown = _digest(week)
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - a role implies a signed-in user
    choice = request.POST.get("receive")
    if choice not in ("yes", "no"):
        return HttpResponseBadRequest("Say receive=yes or receive=no.")
    receive = choice == "yes"
    services.do_set_digest_email(user=user, receive=receive)
    if receive:
        messages.success(request, "The weekly digest will come to you by email.")
    else:
        messages.success(request, "You will no longer get the weekly digest by email.")
    return redirect("digest", week=shown.week_start.isoformat())
