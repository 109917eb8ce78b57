from django.contrib import admin

from townsquare.community.models import (
    Channel,
    Conversation,
    Identity,
    Interaction,
    Member,
    Source,
)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin[Source]):
    list_display = ("name", "platform", "created_at")


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin[Channel]):
    list_display = ("name", "source", "external_id")
    list_filter = ("source",)


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin[Member]):
    list_display = ("display_name", "first_seen_at", "last_seen_at", "is_team", "is_bot")
    search_fields = ("display_name",)


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin[Identity]):
    list_display = ("display_name", "handle", "source", "external_id")
    search_fields = ("display_name", "handle", "email")
    raw_id_fields = ("member",)


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin[Conversation]):
    list_display = ("title", "source", "channel", "started_at")
    raw_id_fields = ("channel",)


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin[Interaction]):
    list_display = ("kind", "external_id", "source", "created_at")
    list_filter = ("kind", "source")
    raw_id_fields = ("identity", "member", "channel", "conversation", "parent")
