"""The webhook pages under Settings: the subscriptions with their recent health, one
subscription with its secret and actions, and its delivery log. Managers and admins only: the
URLs can carry tokens, the secrets sign what receivers trust, and payloads name members."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from townsquare.front.access import can_manage_webhooks, requires
from townsquare.front.views import render_listing
from townsquare.webhooks import services
from townsquare.webhooks.forms import DeliveryFilterForm, EventsForm, SubscriptionForm
from townsquare.webhooks.http import TargetError
from townsquare.webhooks.models import Delivery, DeliveryStatus, Subscription, WebhookChange
from townsquare.webhooks.sending import MAX_ATTEMPTS

LOG_PAGE_SIZE = 25
RECENT_DELIVERIES = 10
HEALTH_WINDOW = timedelta(days=7)


def _manager(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # the decorator let only signed-in managers through
        raise PermissionDenied("Only managers and admins can manage webhooks.")
    return user


def with_health(subscriptions: QuerySet[Subscription]) -> QuerySet[Subscription]:
    """Each subscription's deliveries of the last 7 days by status, its pending ones, and the
    status of its latest delivery: one query for the whole list."""
    recent = Q(deliveries__created_at__gte=timezone.now() - HEALTH_WINDOW)
    latest = Delivery.objects.filter(subscription=OuterRef("pk")).order_by("-created_at", "-id")
    return subscriptions.select_related("created_by").annotate(
        delivered=Count("deliveries", filter=recent & Q(deliveries__status="delivered")),
        failed=Count("deliveries", filter=recent & Q(deliveries__status="failed")),
        pending=Count("deliveries", filter=Q(deliveries__status="pending")),
        last_delivery_at=Max("deliveries__created_at"),
        last_status=Subquery(latest.values("status")[:1]),
    )


@requires(can_manage_webhooks)
@require_http_methods(["GET", "POST"])
def subscriptions(request: HttpRequest) -> HttpResponse:
    """Every subscription with its recent health, and the form to add one."""
    form = SubscriptionForm()
    status = 200
    if request.method == "POST":
        form = SubscriptionForm(request.POST)
        if form.is_valid():
            try:
                subscription = services.do_subscribe(
                    url=form.cleaned_data["url"],
                    chosen_events=form.cleaned_data["events"],
                    by=_manager(request),
                )
            except (TargetError, ValueError) as e:
                form.add_error(None, str(e))
            else:
                messages.success(
                    request,
                    f"Webhook to {subscription.host} added. Give its secret to the receiver so "
                    "it can check each delivery's signature.",
                )
                return redirect("webhook", subscription.pk)
        status = 400
    context = {
        "section": "settings",
        "subscriptions": with_health(Subscription.objects.all()),
        "form": form,
        "changes": WebhookChange.objects.select_related("subscription")[:20],
        "window_days": HEALTH_WINDOW.days,
    }
    return render(request, "webhooks/subscriptions.html", context, status=status)


def _recent(subscription: Subscription) -> list[Delivery]:
    deliveries = list(subscription.deliveries.all()[:RECENT_DELIVERIES])
    _prepare(deliveries)
    return deliveries


def _prepare(deliveries: list[Delivery]) -> None:
    for delivery in deliveries:
        delivery.payload_json = json.dumps(  # type: ignore[attr-defined]
            delivery.payload, indent=2, ensure_ascii=False, sort_keys=True
        )


@requires(can_manage_webhooks)
@require_safe
def subscription(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """One subscription: its secret, events, actions, latest deliveries and changes."""
    sub = get_object_or_404(with_health(Subscription.objects.all()), pk=subscription_id)
    return _subscription_page(request, sub, EventsForm(initial={"events": sub.events}))


def _subscription_page(
    request: HttpRequest, sub: Subscription, events_form: EventsForm, status: int = 200
) -> HttpResponse:
    context = {
        "section": "settings",
        "subscription": sub,
        "events_form": events_form,
        "deliveries": _recent(sub),
        "changes": sub.changes.all()[:20],
        "max_attempts": MAX_ATTEMPTS,
        "window_days": HEALTH_WINDOW.days,
    }
    return render(request, "webhooks/subscription.html", context, status=status)


@requires(can_manage_webhooks)
@require_POST
def events(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """Change which events the subscription receives."""
    sub = get_object_or_404(Subscription, pk=subscription_id)
    form = EventsForm(request.POST)
    if not form.is_valid():
        sub = get_object_or_404(with_health(Subscription.objects.all()), pk=subscription_id)
        return _subscription_page(request, sub, form, status=400)
    services.do_set_events(
        subscription=sub, chosen_events=form.cleaned_data["events"], by=_manager(request)
    )
    messages.success(request, "Events saved.")
    return redirect("webhook", sub.pk)


@requires(can_manage_webhooks)
@require_POST
def active(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """Pause or resume the subscription."""
    sub = get_object_or_404(Subscription, pk=subscription_id)
    resume = request.POST.get("active") == "1"
    services.do_set_active(subscription=sub, active=resume, by=_manager(request))
    if resume:
        messages.success(request, f"Webhook to {sub.host} resumed: pending deliveries go out now.")
    else:
        messages.success(
            request,
            f"Webhook to {sub.host} paused: it gets no new events, and its pending deliveries "
            "wait until it is resumed.",
        )
    return redirect("webhook", sub.pk)


@requires(can_manage_webhooks)
@require_POST
def rotate(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """Give the subscription a new secret."""
    sub = get_object_or_404(Subscription, pk=subscription_id)
    services.do_rotate_secret(subscription=sub, by=_manager(request))
    messages.success(
        request,
        "New secret made: deliveries from now on are signed with it. Give it to the receiver.",
    )
    return redirect("webhook", sub.pk)


@requires(can_manage_webhooks)
@require_POST
def delete(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """Delete the subscription and its delivery log."""
    sub = get_object_or_404(Subscription, pk=subscription_id)
    host = sub.host
    services.do_delete(subscription=sub, by=_manager(request))
    messages.success(request, f"Webhook to {host} deleted, with its delivery log.")
    return redirect("webhooks")


@requires(can_manage_webhooks)
@require_POST
def test(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """Send a `ping` event to the subscription."""
    sub = get_object_or_404(Subscription, pk=subscription_id)
    if not sub.is_active:
        messages.error(request, "This webhook is paused: resume it to send a test event.")
        return redirect("webhook", sub.pk)
    services.do_send_test(subscription=sub, by=_manager(request))
    messages.success(
        request, "Test event queued: it is sent in a moment and shows in the deliveries below."
    )
    return redirect("webhook", sub.pk)


@requires(can_manage_webhooks)
@require_safe
def deliveries(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """The subscription's delivery log, newest first, by status."""
    sub = get_object_or_404(Subscription, pk=subscription_id)
    filters = DeliveryFilterForm(request.GET)
    chosen = filters.values()
    rows = sub.deliveries.select_related("requested_by")
    if chosen["status"]:
        rows = rows.filter(status=chosen["status"])
    page = Paginator(rows, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    _prepare(page.object_list)
    context = {
        "section": "settings",
        "subscription": sub,
        "filters": filters,
        "chosen": chosen,
        "page": page,
        "max_attempts": MAX_ATTEMPTS,
    }
    return render_listing(
        request,
        "webhooks/deliveries.html",
        context,
        partial="webhooks/_delivery_results.html",
        target="delivery-results",
    )


@requires(can_manage_webhooks)
@require_POST
def retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """One more attempt at a failed delivery, now."""
    delivery = get_object_or_404(Delivery.objects.select_related("subscription"), pk=delivery_id)
    back = redirect("webhook_deliveries", delivery.subscription_id)
    if delivery.status != DeliveryStatus.FAILED:
        messages.error(request, "Only a failed delivery can be retried.")
        return back
    services.do_retry(delivery=delivery, by=_manager(request))
    if delivery.subscription.is_active:
        messages.success(request, "Retrying: the delivery is sent again in a moment.")
    else:
        messages.warning(
            request, "Queued again, but this webhook is paused: it is sent once resumed."
        )
    return back
