"""The care queue's pages: the ranked list, one item with the member's context, and the
queue's settings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from townsquare.care import services
from townsquare.care.forms import (
    AssignForm,
    CareSettingsForm,
    DismissForm,
    QueueFilters,
    ResolveForm,
    SnoozeForm,
)
from townsquare.care.models import (
    ACTIVE_STATUSES,
    DEFAULT_WEIGHTS,
    CareItem,
    CareReason,
    CareSettings,
    ChannelPolicy,
    Rule,
    RuleAdjustment,
    RuleSetting,
    Status,
)
from townsquare.care.queue import rerank
from townsquare.care.today import merge_hints, with_merge_hints
from townsquare.community.models import Channel
from townsquare.front.access import can_change_settings, can_read, can_work_care, requires
from townsquare.front.member_card import member_card

PER_PAGE = 25


def _worker(request: HttpRequest) -> User:
    user = request.user
    if not can_work_care(user) or not isinstance(user, User):
        raise PermissionDenied("Only managers and admins can work the care queue.")
    return user


def queue_items(filters: dict[str, Any], user: Any) -> QuerySet[CareItem]:
    """Items as the queue lists them: highest priority first, with their standing reasons."""
    status = filters.get("status") or ""
    if status == "closed":
        items = CareItem.objects.filter(status__in=[Status.RESOLVED, Status.DISMISSED])
        items = items.order_by("-closed_at", "-id")
    elif status == Status.SNOOZED:
        items = CareItem.objects.filter(status=Status.SNOOZED).order_by("snoozed_until", "id")
    else:
        items = CareItem.objects.filter(status=Status.OPEN).order_by("-priority", "id")
    if filters.get("rule"):
        items = items.filter(
            reasons__rule=filters["rule"], reasons__cleared_at__isnull=True
        ).distinct()
    if filters.get("who") == "me":
        items = items.filter(assigned_to=user)
    elif filters.get("who") == "nobody":
        items = items.filter(assigned_to__isnull=True)
    standing = CareReason.objects.filter(cleared_at__isnull=True).order_by("-score", "id")
    return items.select_related("member", "assigned_to").prefetch_related(
        Prefetch("reasons", queryset=standing, to_attr="standing")
    )


@requires(can_read)
@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    form = QueueFilters(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(queue_items(filters, request.user), PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "section": "care",
        "form": form,
        "page": page,
        "items": with_merge_hints(page.object_list),
        "can_work": can_work_care(request.user),
    }
    is_htmx = request.headers.get("HX-Request") == "true"
    template = "care/_queue_results.html" if is_htmx else "care/queue.html"
    return render(request, template, context)


def _item_context(request: HttpRequest, item: CareItem, **forms: Any) -> dict[str, Any]:
    reasons = list(
        CareReason.objects.filter(item=item)
        .select_related("interaction__moderation", "conversation", "channel")
        # Standing reasons first on both engines (they sort NULL differently), strongest first.
        .order_by(F("cleared_at").asc(nulls_first=True), "-score", "id")
    )
    history = (
        CareItem.objects.filter(member=item.member)
        .exclude(pk=item.pk)
        .exclude(status__in=ACTIVE_STATUSES)
        .select_related("closed_by", "touchpoint")
        .order_by("-closed_at")[:10]
    )
    return {
        "section": "care",
        "item": item,
        "reasons": reasons,
        "history": history,
        "card": member_card(item.member),
        "merge_hint": merge_hints([item.member_id]).get(item.member_id),
        "can_work": can_work_care(request.user),
        "active": item.status in ACTIVE_STATUSES,
        "assign_form": forms.get("assign_form")
        or AssignForm(initial={"assignee": item.assigned_to}),
        "snooze_form": forms.get("snooze_form") or SnoozeForm(),
        "resolve_form": forms.get("resolve_form") or ResolveForm(),
        "dismiss_form": forms.get("dismiss_form") or DismissForm(),
    }


@requires(can_read)
@require_safe
def item(request: HttpRequest, item_id: int) -> HttpResponse:
    found = get_object_or_404(
        CareItem.objects.select_related("member", "assigned_to", "closed_by", "touchpoint"),
        pk=item_id,
    )
    return render(request, "care/item.html", _item_context(request, found))


def _act(request: HttpRequest, item_id: int, form_name: str, form: Any, act: Any) -> HttpResponse:
    user = _worker(request)
    found = get_object_or_404(CareItem.objects.select_related("member"), pk=item_id)
    if form.is_valid():
        try:
            message = act(found, user, form.cleaned_data)
        except ValidationError as e:
            form.add_error(None, e)
        else:
            messages.success(request, message)
            return redirect(_next_url(request, found))
    context = _item_context(request, found, **{form_name: form})
    return render(request, "care/item.html", context, status=400)


def _next_url(request: HttpRequest, item: CareItem) -> str:
    # After closing an item, the next one in the queue; otherwise back to the item.
    if item.status in ACTIVE_STATUSES:
        return reverse("care_item", args=[item.pk])
    following = CareItem.objects.filter(status=Status.OPEN).order_by("-priority", "id").first()
    return reverse("care_item", args=[following.pk]) if following else reverse("care")


@requires(can_read)
@require_POST
def assign(request: HttpRequest, item_id: int) -> HttpResponse:
    def act(item: CareItem, user: User, data: dict[str, Any]) -> str:
        assignee = data["assignee"]
        services.do_assign(item=item, assignee=assignee, actor=user)
        return f"Assigned to {assignee.username}." if assignee else "Unassigned."

    if request.POST.get("assignee") == "me":
        form = AssignForm({"assignee": request.user.pk})
    else:
        form = AssignForm(request.POST)
    return _act(request, item_id, "assign_form", form, act)


@requires(can_read)
@require_POST
def snooze(request: HttpRequest, item_id: int) -> HttpResponse:
    def act(item: CareItem, user: User, data: dict[str, Any]) -> str:
        services.do_snooze(item=item, until=data["until_at"], actor=user)
        return f"Snoozed until {data['until_at']:%d %b %Y}."

    return _act(request, item_id, "snooze_form", SnoozeForm(request.POST), act)


@requires(can_read)
@require_POST
def resolve(request: HttpRequest, item_id: int) -> HttpResponse:
    def act(item: CareItem, user: User, data: dict[str, Any]) -> str:
        services.do_resolve(
            item=item,
            actor=user,
            what=data["what"],
            outcome=data["outcome"],
            channel=data["channel"],
        )
        return f"Resolved; the touchpoint is on {item.member.display_name}'s profile."

    return _act(request, item_id, "resolve_form", ResolveForm(request.POST), act)


@requires(can_read)
@require_POST
def dismiss(request: HttpRequest, item_id: int) -> HttpResponse:
    def act(item: CareItem, user: User, data: dict[str, Any]) -> str:
        services.do_dismiss(item=item, actor=user, reason=data["reason"])
        return "Dismissed. Similar items will weigh a little less."

    return _act(request, item_id, "dismiss_form", DismissForm(request.POST), act)


def _rule_rows() -> list[dict[str, Any]]:
    stored = {s.rule: s for s in RuleSetting.objects.all()}
    learned: dict[str, list[RuleAdjustment]] = {}
    for a in RuleAdjustment.objects.select_related("channel").order_by("factor"):
        learned.setdefault(a.rule, []).append(a)
    rows = []
    for rule in Rule:
        setting = stored.get(rule)
        rows.append(
            {
                "rule": rule,
                "label": rule.label,
                "weight": setting.weight if setting else DEFAULT_WEIGHTS[rule],
                "default": DEFAULT_WEIGHTS[rule],
                "enabled": setting.enabled if setting else True,
                "learned": learned.get(rule, []),
            }
        )
    return rows


@requires(can_read)
@require_http_methods(["GET", "POST"])
def care_settings(request: HttpRequest) -> HttpResponse:
    current = CareSettings.load()
    form = CareSettingsForm(instance=current)
    if request.method == "POST":
        if not can_change_settings(request.user):
            raise PermissionDenied("Only managers and admins can change the care settings.")
        form = CareSettingsForm(request.POST, instance=current)
        if form.is_valid():
            form.save()
            _save_rules(request)
            _save_policies(request)
            rerank(timezone.now())
            messages.success(request, "Care settings saved; the queue is ranked again.")
            return redirect("care_settings")
    channels = Channel.objects.select_related("source", "care_policy").order_by(
        "source__name", "name"
    )
    context = {
        "section": "settings",
        "form": form,
        "rules": _rule_rows(),
        "channels": channels,
        "can_change": can_change_settings(request.user),
    }
    return render(request, "care/settings.html", context, status=400 if form.errors else 200)


def _float(value: str | None) -> float | None:
    try:
        number = float(value or "")
    except ValueError:
        return None
    return number if 0 <= number <= 100 else None


def _save_rules(request: HttpRequest) -> None:
    user = request.user if isinstance(request.user, User) else None
    for rule in Rule:
        weight = _float(request.POST.get(f"weight_{rule}"))
        if weight is None:
            continue
        RuleSetting.objects.update_or_create(
            rule=rule,
            defaults={
                "weight": weight,
                "enabled": request.POST.get(f"enabled_{rule}") == "on",
                "updated_by": user,
            },
        )


def _save_policies(request: HttpRequest) -> None:
    for channel_id in Channel.objects.values_list("id", flat=True):
        sla = request.POST.get(f"sla_{channel_id}", "").strip()
        language = request.POST.get(f"language_{channel_id}", "").strip().lower()[:8]
        hours = int(sla) if sla.isdigit() and 0 < int(sla) <= 24 * 30 else None
        if hours is None and not language:
            ChannelPolicy.objects.filter(channel_id=channel_id).delete()
            continue
        ChannelPolicy.objects.update_or_create(
            channel_id=channel_id, defaults={"sla_hours": hours, "main_language": language}
        )
