"""What the API reads and returns. Field names are PRODUCT.md's vocabulary, as in the models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

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
    # The source says the account was deactivated (a Slack user marked deleted).
    is_deactivated: bool
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
    # Empty when the message it came from is hidden from the reader (`hidden`): a title
    # taken from a message is that message's words.
    title: str
    url: str
    note: str
    interaction_id: int | None
    hidden: bool = Field(description="The message it came from is hidden by a moderator.")
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


class ChannelBrief(Schema):
    id: int
    name: str
    source_id: int


class MemberRef(Schema):
    id: int
    display_name: str


class CorrectionOut(Schema):
    """A person's correction of one label: it wins over the analyzers' value for good."""

    field: str
    value: str | bool | None
    # What the analyzers had said; None when not recorded.
    previous: str | bool | None
    corrected_by: UserOut | None
    corrected_at: datetime
    note: str


class LabelsOut(Schema):
    """What the analyzers found in a message, as people corrected it (`corrections`)."""

    # False for what has no words of its own (a reaction, a join): no label then.
    analyzed: bool
    language: str | None
    language_confidence: float
    # positive, neutral, negative, or unsupported (a language the analyzer cannot judge).
    sentiment: str | None
    # The analyzer's compound score, -1..1.
    sentiment_score: float | None
    is_question: bool
    question_score: float
    is_gratitude: bool
    emotion: str | None
    is_toxic: bool
    toxicity: float
    is_spam: bool
    spam: float
    keywords: list[str]
    # The tracked terms (keywords, brands, hashtags) it mentions.
    terms: list[str]
    corrections: list[CorrectionOut]
    enriched_at: datetime


class InteractionOut(Schema):
    id: int
    kind: str
    source: SourceOut
    channel: ChannelBrief | None
    conversation_id: int | None
    parent_id: int | None
    member: MemberRef | None
    identity_id: int | None
    # None when a moderator hid the message and the reader is not a moderator.
    text: str | None
    url: str
    created_at: datetime
    edited_at: datetime | None
    hidden: bool
    # None when never analysed yet, or hidden from the reader.
    labels: LabelsOut | None


class InteractionPage(Page):
    items: list[InteractionOut]


class ClaimOut(Schema):
    user: UserOut
    claimed_at: datetime


class ConversationStateOut(Schema):
    """The inbox's rollup of a conversation (docs/metrics.md, "Time to first response")."""

    opened_by: MemberRef | None
    opened_at: datetime
    first_message_id: int | None
    # The first message's labels, as corrected; None when it is hidden from the reader.
    is_question: bool | None
    language: str | None
    sentiment: str | None
    first_response_at: datetime | None
    first_responder_id: int | None
    last_activity_at: datetime | None
    message_count: int
    awaiting_reply: bool
    answered_at: datetime | None
    answered_by: UserOut | None
    answered_link: str


class ConversationOut(Schema):
    id: int
    source: SourceOut
    channel: ChannelBrief | None
    external_id: str
    title: str
    url: str
    started_at: datetime
    # None until the inbox rollup has seen the conversation.
    state: ConversationStateOut | None
    claim: ClaimOut | None


class ConversationDetailOut(ConversationOut):
    messages: InteractionPage


class ConversationPage(Page):
    items: list[ConversationOut]


class CareReasonOut(Schema):
    id: int
    rule: str
    detail: str
    # 0..1 within its rule; score = weight × learned factor × strength (docs/care.md).
    strength: float
    score: float
    occurred_at: datetime
    created_at: datetime
    # Set when the reason went away by itself (the question got an answer).
    cleared_at: datetime | None
    interaction_id: int | None
    conversation_id: int | None
    channel_id: int | None


class CareItemOut(Schema):
    id: int
    member: MemberRef
    status: str
    priority: float
    for_moderators: bool
    assigned_to: UserOut | None
    snoozed_until: datetime | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    closed_by: UserOut | None
    dismiss_reason: str
    touchpoint_id: int | None
    reasons: list[CareReasonOut]
    # The other members an open merge suggestion says this member may also be (the pages'
    # "Maybe the same person as…"): a touch for one half of a person concerns the other.
    maybe_also: list[MemberRef]


class CareItemDetailOut(CareItemOut):
    # The touchpoint logged when it was resolved.
    touchpoint: TouchpointOut | None


class CareItemPage(Page):
    items: list[CareItemOut]


class AssignIn(Schema):
    # A manager or admin (who may work the queue); null takes the item from whoever has it.
    assignee_id: Id | None


class SnoozeIn(Schema):
    until: AwareTime


class ResolveIn(Schema):
    what: str = Field(min_length=1, max_length=2000, pattern=NO_NUL, description="What was done.")
    outcome: str = Field(default="", max_length=2000, pattern=NO_NUL)
    channel: str = Field(
        default="", max_length=100, pattern=NO_NUL, description="Where: Slack DM, email, call."
    )


class DismissIn(Schema):
    reason: str = Field(
        min_length=1, max_length=2000, pattern=NO_NUL, description="Why no touch is needed."
    )


class AlertOut(Schema):
    id: int
    # None: the whole community.
    channel: ChannelBrief | None
    metric: str
    window_start: datetime
    window_end: datetime
    value: float
    # The trailing norm the value was compared with, and the k of mean + k·σ.
    mean: float
    std: float
    k: float
    message: str
    created_at: datetime
    acknowledged_by: UserOut | None
    acknowledged_at: datetime | None


class AlertPage(Page):
    items: list[AlertOut]


class MetricInfo(Schema):
    name: str
    description: str
    # The options it takes beyond source, channel, since and until.
    options: list[str]


class MetricList(Schema):
    items: list[MetricInfo]


# The metrics' results, as `townsquare metrics NAME --json` prints them (docs/metrics.md):
# days as YYYY-MM-DD, instants as the command writes them (ISO 8601 with an offset).


class ResponseTimesRow(Schema):
    # None: the whole scope; "(no channel)" for conversations outside any channel.
    channel: str | None
    period_start: date
    conversations: int
    responded: int
    no_response: int
    median_seconds: float | None
    p90_seconds: float | None


class TtfrResult(Schema):
    metric: Literal["ttfr"]
    rows: list[ResponseTimesRow]


class UnansweredResult(Schema):
    metric: Literal["unanswered"]
    hours: int
    cutoff: str
    total: int
    per_channel: dict[str, int]


class NewMembersResult(Schema):
    metric: Literal["new-members"]
    # First day of the month -> members first seen in it.
    per_month: dict[str, int]


class ActiveMembersResult(Schema):
    metric: Literal["active-members"]
    day: date
    dau: int
    wau: int
    mau: int
    dau_mau: float


class CohortRow(Schema):
    month: date
    members: int
    # Members active in month M + k, and their share of the cohort, k = 0, 1, …
    active: list[int]
    retained: list[float]


class RetentionResult(Schema):
    metric: Literal["retention"]
    cohorts: list[CohortRow]


class MemberActivityRow(Schema):
    member_id: int
    name: str
    interactions: int
    last_at: str


class DriftingAwayResult(Schema):
    metric: Literal["drifting-away"]
    as_of: date
    recent_since: date
    window_since: date
    count: int
    members: list[MemberActivityRow]


class InactiveMembersResult(Schema):
    metric: Literal["inactive-members"]
    as_of: date
    days: int
    total: int
    per_month: dict[str, int]


class AbsenceFactorResult(Schema):
    metric: Literal["absence-factor"]
    factor: int
    members: int
    interactions: int


class OnionLayer(Schema):
    members: int
    interactions: int


class OnionResult(Schema):
    metric: Literal["onion"]
    core: OnionLayer
    regular: OnionLayer
    casual: OnionLayer


class SentimentRow(Schema):
    channel: str | None
    period_start: date
    messages: int
    mean_compound: float | None
    negative_share: float | None
    unsupported: int


class SentimentTrendResult(Schema):
    metric: Literal["sentiment-trend"]
    rows: list[SentimentRow]


class ActivityHeatmapResult(Schema):
    metric: Literal["activity-heatmap"]
    time_zone: str
    # [weekday][hour], Monday first.
    utc: list[list[int]]
    local: list[list[int]]


MetricResult = Annotated[
    TtfrResult
    | UnansweredResult
    | NewMembersResult
    | ActiveMembersResult
    | RetentionResult
    | DriftingAwayResult
    | InactiveMembersResult
    | AbsenceFactorResult
    | OnionResult
    | SentimentTrendResult
    | ActivityHeatmapResult,
    Field(discriminator="metric"),
]
