"""Members: the list with its filters, one member in full, and the fields staff may change."""

from __future__ import annotations

from typing import Literal

from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.params import P, PathEx
from pydantic import Field

from townsquare.api.convert import identity_out, member_out, member_summary
from townsquare.api.params import NO_NUL, AwareTime, Id, Pagination, acting_user, paginate, writer
from townsquare.api.schemas import ErrorOut, IdentityList, MemberOut, MemberPage, MemberPatch
from townsquare.api.services import do_rename_member
from townsquare.community.memory import do_set_custom_field
from townsquare.community.models import (
    Identity,
    KnowledgeEntry,
    Member,
    MemberTag,
    Note,
    Touchpoint,
)
from townsquare.community.services import do_mark_member
from townsquare.front.members_filters import MemberFilters as PageFilters
from townsquare.front.members_filters import filter_members as filter_page_members
from townsquare.front.queries import MEMBER_SORTS
from townsquare.lib.paging import ReadOnce
from townsquare.people.models import EngagementLevel

router = Router(tags=["members"])
MemberId = PathEx[int, P(ge=1, le=2**63 - 1)]


class MemberFilters(Schema):
    q: str | None = Field(
        None,
        max_length=200,
        pattern=NO_NUL,
        description="Part of a name, handle or email, in any letter case.",
    )
    source: Id | None = Field(None, description="A source's id: members with an identity there.")
    platform: str | None = Field(None, max_length=32, pattern=NO_NUL)
    tag: str | None = Field(None, max_length=100, pattern=NO_NUL, description="A tag's name.")
    first_seen_after: AwareTime | None = None
    first_seen_before: AwareTime | None = None
    last_seen_after: AwareTime | None = None
    last_seen_before: AwareTime | None = None
    include_merged: bool = Field(False, description="Also list members merged into another.")
    include_erased: bool = Field(False, description="Also list members whose data was erased.")
    # The member list page's other filters, with the names and meanings a segment saves.
    text: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        pattern=NO_NUL,
        description="Members who wrote this in a message, in any letter case (messages a "
        "moderator hid are left out).",
    )
    channel: Id | None = Field(None, description="A channel's id: members who wrote there.")
    language: str | None = Field(
        None, pattern=r"^[a-z]{2,3}$", description="Members who wrote in it (ISO 639 code)."
    )
    level: EngagementLevel | None = Field(None, description="Engagement level.")
    sentiment: Literal["negative30", "negative90", "negative"] | None = Field(
        None,
        description="Mostly negative over the last 30 or 90 days, or all time "
        '(docs/metrics.md, "Mostly negative").',
    )
    is_team: bool | None = None
    is_bot: bool | None = None
    do_not_contact: bool | None = None
    sort: Literal["name", "last_seen", "first_seen", "interactions"] = Field(
        "name", description="Name (the default), last seen, first seen or interactions."
    )

    def page_filters(self) -> PageFilters:
        """The filters this list shares with the member list page, as the page reads them
        (merged and erased members are this list's own choice)."""

        def flag(value: bool | None) -> str:
            return "" if value is None else "yes" if value else "no"

        return PageFilters(
            text=(self.text or "").strip(),
            channel=self.channel,
            language=self.language or "",
            level=self.level or "",
            sentiment=self.sentiment or "",
            team=flag(self.is_team),
            bot=flag(self.is_bot),
            dnc=flag(self.do_not_contact),
            merged=True,
            erased=True,
        )


def filter_members(filters: MemberFilters) -> QuerySet[Member]:
    members = Member.objects.all()
    if not filters.include_merged:
        members = members.filter(merged_into__isnull=True)
    if not filters.include_erased:
        members = members.filter(erased_at__isnull=True)
    identities = Identity.objects.filter(member=OuterRef("pk"))
    if filters.q and filters.q.strip():
        q = filters.q.strip()
        members = members.filter(
            Q(display_name__icontains=q)
            | Exists(
                identities.filter(
                    Q(handle__icontains=q) | Q(display_name__icontains=q) | Q(email__icontains=q)
                )
            )
        )
    if filters.source is not None:
        members = members.filter(Exists(identities.filter(source_id=filters.source)))
    if filters.platform:
        members = members.filter(Exists(identities.filter(source__platform=filters.platform)))
    if filters.tag:
        tagged = MemberTag.objects.filter(member=OuterRef("pk"), tag__name__iexact=filters.tag)
        members = members.filter(Exists(tagged))
    for field, after, before in (
        ("first_seen_at", filters.first_seen_after, filters.first_seen_before),
        ("last_seen_at", filters.last_seen_after, filters.last_seen_before),
    ):
        if after is not None:
            members = members.filter(**{f"{field}__gte": after})
        if before is not None:
            members = members.filter(**{f"{field}__lt": before})
    shared = filters.page_filters()
    if shared != PageFilters(merged=True, erased=True):
        members = members.filter(pk__in=filter_page_members(shared).values("pk"))
    _, ordering = MEMBER_SORTS[filters.sort]
    return members.order_by(*ordering)


def _with_tags_and_identities(members: QuerySet[Member]) -> QuerySet[Member]:
    return members.prefetch_related(
        Prefetch("member_tags", MemberTag.objects.select_related("tag")),
        Prefetch("identities", Identity.objects.select_related("source")),
    )


def _count(model: type[Note] | type[Touchpoint] | type[KnowledgeEntry]) -> Coalesce:
    per_member = (
        model.objects.filter(member=OuterRef("pk"))
        .order_by()
        .values("member")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(per_member, output_field=IntegerField()), 0)


def _member_in_full(member_id: int) -> MemberOut:
    member = (
        _with_tags_and_identities(Member.objects.filter(pk=member_id))
        .annotate(
            n_notes=_count(Note),
            n_touchpoints=_count(Touchpoint),
            n_knowledge=_count(KnowledgeEntry),
        )
        .first()
    )
    if member is None:
        raise HttpError(404, f"No member #{member_id}.")
    return member_out(
        member,
        notes=member.n_notes,
        touchpoints=member.n_touchpoints,
        knowledge=member.n_knowledge,
    )


@router.get("/members", response=MemberPage, summary="List members")
def list_members(
    request: HttpRequest, filters: Query[MemberFilters], page: Query[Pagination]
) -> MemberPage:
    """Members by name, without those merged into another or erased unless asked."""
    members = filter_members(filters)
    if filters.page_filters().text:
        # The text search is most of the cost: read the ids once, not for the count and again
        # for the page.
        listing = ReadOnce(members, _with_tags_and_identities(Member.objects.all()))
        return MemberPage(**paginate(page, listing, member_summary))
    rows = _with_tags_and_identities(members)
    return MemberPage(**paginate(page, members, member_summary, rows=rows))


@router.get(
    "/members/{member_id}", response={200: MemberOut, 404: ErrorOut}, summary="Get a member"
)
def get_member(request: HttpRequest, member_id: MemberId) -> MemberOut:
    """A member with identities, tags, custom fields, marks, first and last seen, and counts."""
    return _member_in_full(member_id)


@router.patch(
    "/members/{member_id}",
    response={200: MemberOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Change a member",
)
def patch_member(request: HttpRequest, member_id: MemberId, patch: MemberPatch) -> MemberOut:
    """Rename, set custom fields (null removes one) and the do-not-contact, staff and bot marks.
    Fields left out are left as they are."""
    user = writer(request)
    member = Member.objects.filter(pk=member_id).first()
    if member is None:
        raise HttpError(404, f"No member #{member_id}.")
    if member.merged_into_id is not None:
        raise HttpError(409, f"Member #{member_id} was merged into #{member.merged_into_id}.")
    if member.erased_at is not None:
        raise HttpError(409, f"Member #{member_id}'s personal data was erased.")
    try:
        with transaction.atomic():
            if patch.display_name is not None:
                do_rename_member(member=member, display_name=patch.display_name)
            do_mark_member(
                member=member,
                actor=user,
                do_not_contact=patch.do_not_contact,
                is_team=patch.is_team,
                is_bot=patch.is_bot,
            )
            for name, value in (patch.custom_fields or {}).items():
                do_set_custom_field(member=member, name=name, value=value)
    except ValueError as e:
        raise HttpError(422, str(e)) from None
    return _member_in_full(member_id)


@router.get(
    "/members/{member_id}/identities",
    response={200: IdentityList, 404: ErrorOut},
    summary="List a member's identities",
)
def member_identities(request: HttpRequest, member_id: MemberId) -> IdentityList:
    acting_user(request)
    if not Member.objects.filter(pk=member_id).exists():
        raise HttpError(404, f"No member #{member_id}.")
    identities = Identity.objects.filter(member_id=member_id).select_related("source")
    return IdentityList(items=[identity_out(i) for i in identities.order_by("id")])
