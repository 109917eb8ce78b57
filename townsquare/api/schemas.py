"""What the API reads and returns. Field names are PRODUCT.md's vocabulary, as in the models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field

from townsquare.api.params import NO_NUL, AwareTime, Id
from townsquare.segments.services import NAME_LENGTH as SEGMENT_NAME_LENGTH

# Free text a client sends: generous, but bounded, so a request cannot fill the database.
TEXT_MAX = 20_000
FieldName = Annotated[str, Field(min_length=1, max_length=100, pattern=NO_NUL)]
FieldValue = Annotated[str, Field(max_length=1000, pattern=NO_NUL)] | None


class ErrorOut(Schema):
    # A sentence; or, for a request that does not match the schema, one entry per problem.
    detail: str | list[dict[str, Any]]


class SourceOut(Schema):
    id: int
    name: str
    platform: str


class IdentityOut(Schema):
    id: int
    member_id: int
    source: SourceOut
    external_id: str
    handle: str
    display_name: str
    email: str
    profile_url: str
    is_bot: bool
    is_placeholder: bool
    created_at: datetime


class IdentityBrief(Schema):
    id: int
    source_id: int
    platform: str
    handle: str
    display_name: str


class MemberSummaryOut(Schema):
    id: int
    display_name: str
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    interaction_count: int
    is_team: bool
    is_bot: bool
    do_not_contact: bool
    merged_into_id: int | None
    erased: bool
    tags: list[str]
    identities: list[IdentityBrief]


class MemberCounts(Schema):
    interactions: int
    identities: int
    notes: int
    touchpoints: int
    knowledge: int


class TagOut(Schema):
    id: int
    name: str
    color: str
    added_at: datetime


class MemberOut(Schema):
    id: int
    display_name: str
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    is_team: bool
    is_bot: bool
    do_not_contact: bool
    custom_fields: dict[str, str]
    merged_into_id: int | None
    merged_at: datetime | None
    erased_at: datetime | None
    created_at: datetime
    counts: MemberCounts
    tags: list[TagOut]
    identities: list[IdentityOut]


class MemberPatch(Schema):
    display_name: str | None = Field(default=None, min_length=1, max_length=255, pattern=NO_NUL)
    # A merge patch: each name given is set to its value; null (or "") removes the field.
    custom_fields: dict[FieldName, FieldValue] | None = Field(default=None, max_length=50)
    do_not_contact: bool | None = None
    is_team: bool | None = None
    is_bot: bool | None = None


class UserOut(Schema):
    id: int
    username: str


class NoteOut(Schema):
    id: int
    member_id: int
    author: UserOut | None
    text: str
    created_at: datetime
    updated_at: datetime


class NoteIn(Schema):
    text: str = Field(min_length=1, max_length=TEXT_MAX, pattern=NO_NUL)


class TouchpointOut(Schema):
    id: int
    member_id: int
    staff: UserOut | None
    happened_at: datetime
    channel: str
    reason: str
    outcome: str
    interaction_id: int | None
    created_at: datetime


class TouchpointIn(Schema):
    happened_at: AwareTime
    channel: str = Field(default="", max_length=100, pattern=NO_NUL)
    reason: str = Field(default="", max_length=TEXT_MAX, pattern=NO_NUL)
    outcome: str = Field(default="", max_length=TEXT_MAX, pattern=NO_NUL)
    interaction_id: Id | None = None


class KnowledgeOut(Schema):
    id: int
    member_id: int
    title: str
    url: str
    note: str
    interaction_id: int | None
    created_by: UserOut | None
    created_at: datetime


class KnowledgeIn(Schema):
    title: str = Field(min_length=1, max_length=300, pattern=NO_NUL)
    url: str = Field(default="", max_length=500, pattern=NO_NUL)
    note: str = Field(default="", max_length=TEXT_MAX, pattern=NO_NUL)
    interaction_id: Id | None = None


class Page(Schema):
    count: int
    limit: int
    offset: int


class MemberPage(Page):
    items: list[MemberSummaryOut]


class NotePage(Page):
    items: list[NoteOut]


class TouchpointPage(Page):
    items: list[TouchpointOut]


class KnowledgePage(Page):
    items: list[KnowledgeOut]


class IdentityList(Schema):
    items: list[IdentityOut]


# A member-list filter as a client sends it: the text of the list page's query string
# ("tag": "3", "merged": "on"), or the number or boolean it stands for ("tag": 3, "merged": true).
FilterValue = Annotated[str, Field(max_length=1000, pattern=NO_NUL)] | int | bool
SegmentFilters = Annotated[dict[FieldName, FilterValue], Field(max_length=50)]
SegmentName = Annotated[str, Field(min_length=1, max_length=SEGMENT_NAME_LENGTH, pattern=NO_NUL)]
SegmentDescription = Annotated[str, Field(max_length=TEXT_MAX, pattern=NO_NUL)]


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    # The member list's query-string parameters, as the list page saves them: text values, and
    # only the filters that differ from the defaults.
    filters: dict[str, str]
    created_by: UserOut | None
    created_at: datetime


class SegmentDetailOut(SegmentOut):
    member_count: int


class SegmentIn(Schema):
    name: SegmentName
    description: SegmentDescription = ""
    filters: SegmentFilters = Field(default_factory=dict)


class SegmentPatch(Schema):
    name: SegmentName | None = None
    description: SegmentDescription | None = None
    # Replaces the segment's filters as a whole ({} selects every member).
    filters: SegmentFilters | None = None


class SegmentPage(Page):
    items: list[SegmentOut]
