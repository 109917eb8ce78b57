"""The care queue: who needs a human touch and why, ranked as the queue page ranks them; and what
managers do with an item (assign, snooze, resolve with a touchpoint, dismiss with a reason)
through the same services as the page (care/services.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.params import P, PathEx
from pydantic import Field

from townsquare.api.convert import care_item_detail_out, care_item_out
from townsquare.api.params import MAX_ID, Id, Pagination, acting_user
from townsquare.api.schemas import (
    AssignIn,
    CareItemDetailOut,
    CareItemPage,
    DismissIn,
    ErrorOut,
    ResolveIn,
    SnoozeIn,
)
from townsquare.care import services
from townsquare.care.forms import AssignForm
from townsquare.care.models import ACTIVE_STATUSES, CareItem, CareReason, Rule
from townsquare.care.today import merge_hints
from townsquare.care.views import queue_items
from townsquare.front.access import can_work_care

router = Router(tags=["care"])
CareItemId = PathEx[int, P(ge=1, le=MAX_ID)]
ACT_ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class CareFilters(Schema):
    status: Literal["open", "snoozed", "closed"] = Field(
        "open",
        description="As the queue page: open items by priority, snoozed ones by when they "
        "wake, closed ones (resolved and dismissed) most recently closed first.",
    )
    rule: Rule | None = Field(None, description="Items with a standing reason of this rule.")
    assigned_to: Literal["me", "nobody"] | Id | None = Field(
        None, description="`me`, `nobody`, or a user's id."
    )
    min_priority: float | None = Field(None, ge=0, le=1e9, description="Priority at least this.")


def _worker(request: HttpRequest) -> User:
    """The authenticated user, when they may work the queue (the page's rule); a 403
    otherwise."""
    user = acting_user(request)
    if not can_work_care(user):
        raise HttpError(403, "Only managers and admins can work the care queue.")
    return user


def _item(item_id: int) -> CareItem:
    item = (
        CareItem.objects.select_related("member", "assigned_to", "closed_by", "touchpoint__staff")
        .filter(pk=item_id)
        .first()
    )
    if item is None:
        raise HttpError(404, f"No care item #{item_id}.")
    return item


def _in_full(item_id: int) -> CareItemDetailOut:
    item = _item(item_id)
    # As the item page lists them: standing ones first (no clearing time: first on both
    # engines, which sort NULL differently), strongest first.
    reasons = list(
        CareReason.objects.filter(item=item).order_by(
            F("cleared_at").asc(nulls_first=True), "-score", "id"
        )
    )
    hint = merge_hints([item.member_id]).get(item.member_id)
    return care_item_detail_out(item, reasons, hint.others if hint else [])


@router.get("/care-items", response={200: CareItemPage, 422: ErrorOut}, summary="List care items")
def list_care_items(
    request: HttpRequest, filters: Query[CareFilters], page: Query[Pagination]
) -> CareItemPage:
    """In the queue page's order (open: highest priority first), each with its standing
    reasons, strongest first."""
    user = acting_user(request)
    who = filters.assigned_to if filters.assigned_to in ("me", "nobody") else ""
    items = queue_items(
        {
            "status": "" if filters.status == "open" else filters.status,
            "rule": filters.rule or "",
            "who": who,
        },
        user,
    )
    if isinstance(filters.assigned_to, int):
        items = items.filter(assigned_to_id=filters.assigned_to)
    if filters.min_priority is not None:
        items = items.filter(priority__gte=filters.min_priority)
    window = list(items[page.offset : page.offset + page.limit])
    hints = merge_hints(i.member_id for i in window)
    return CareItemPage(
        count=items.count(),
        limit=page.limit,
        offset=page.offset,
        items=[
            care_item_out(
                i,
                i.standing,  # type: ignore[attr-defined]
                hints[i.member_id].others if i.member_id in hints else [],
            )
            for i in window
        ],
    )


@router.get(
    "/care-items/{item_id}",
    response={200: CareItemDetailOut, 404: ErrorOut},
    summary="Get a care item",
)
def get_care_item(request: HttpRequest, item_id: CareItemId) -> CareItemDetailOut:
    """With every reason (those that went away by themselves too, with `cleared_at`) and, once
    resolved, the touchpoint logged."""
    acting_user(request)
    return _in_full(item_id)


@contextmanager
def _refusals(item: CareItem) -> Iterator[None]:
    """The services' refusals: an item no longer open or snoozed conflicts; the rest is a bad
    value."""
    try:
        yield
    except DjangoValidationError as e:
        message = " ".join(e.messages)
        closed = not CareItem.objects.filter(pk=item.pk, status__in=ACTIVE_STATUSES).exists()
        raise HttpError(409 if closed else 422, message) from None


def _act(
    request: HttpRequest, item_id: int, act: Callable[[CareItem, User], object]
) -> CareItemDetailOut:
    user = _worker(request)
    item = _item(item_id)
    with _refusals(item):
        act(item, user)
    return _in_full(item_id)


@router.post(
    "/care-items/{item_id}/assign",
    response={200: CareItemDetailOut, **ACT_ERRORS},
    summary="Assign a care item",
)
def assign(request: HttpRequest, item_id: CareItemId, body: AssignIn) -> CareItemDetailOut:
    """To a manager or admin (someone who may work the queue), or to nobody (`null`)."""

    def act(item: CareItem, user: User) -> object:
        form = AssignForm({"assignee": body.assignee_id or ""})
        if not form.is_valid():
            raise HttpError(422, f"User #{body.assignee_id} cannot work the care queue.")
        return services.do_assign(item=item, assignee=form.cleaned_data["assignee"], actor=user)

    return _act(request, item_id, act)


@router.post(
    "/care-items/{item_id}/snooze",
    response={200: CareItemDetailOut, **ACT_ERRORS},
    summary="Snooze a care item",
)
def snooze(request: HttpRequest, item_id: CareItemId, body: SnoozeIn) -> CareItemDetailOut:
    """It leaves the open queue and comes back by itself at `until` (a future time)."""
    return _act(
        request,
        item_id,
        lambda item, user: services.do_snooze(item=item, until=body.until, actor=user),
    )


@router.post(
    "/care-items/{item_id}/resolve",
    response={200: CareItemDetailOut, **ACT_ERRORS},
    summary="Resolve a care item with a touchpoint",
)
def resolve(request: HttpRequest, item_id: CareItemId, body: ResolveIn) -> CareItemDetailOut:
    """Close it with the human contact made: what was done, where and the outcome, logged as a
    touchpoint on the member's profile by the authenticated user."""
    return _act(
        request,
        item_id,
        lambda item, user: services.do_resolve(
            item=item, actor=user, what=body.what, outcome=body.outcome, channel=body.channel
        ),
    )


@router.post(
    "/care-items/{item_id}/dismiss",
    response={200: CareItemDetailOut, **ACT_ERRORS},
    summary="Dismiss a care item",
)
def dismiss(request: HttpRequest, item_id: CareItemId, body: DismissIn) -> CareItemDetailOut:
    """Close it without contact. The reason is what the team learns from: the weights of its
    rules in its channels go down a little (docs/care.md)."""
    return _act(
        request,
        item_id,
        lambda item, user: services.do_dismiss(item=item, actor=user, reason=body.reason),
    )
