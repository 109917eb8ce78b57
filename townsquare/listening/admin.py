"""Admin pages of listening: enrichments to inspect, corrections, thanks and tracked terms."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from townsquare.listening.models import (
    Enrichment,
    LabelCorrection,
    TermMatch,
    Thanks,
    TrackedTerm,
)
from townsquare.listening.pipeline import normalize_term
from townsquare.listening.services import queue_term_matching


@admin.register(Enrichment)
class EnrichmentAdmin(admin.ModelAdmin[Enrichment]):
    list_display = (
        "interaction",
        "language",
        "sentiment_label",
        "is_question",
        "is_gratitude",
        "emotion",
        "is_toxic",
        "is_spam",
        "enriched_at",
    )
    list_filter = ("analyzed", "sentiment_label", "is_question", "is_toxic", "is_spam", "language")
    raw_id_fields = ("interaction",)

    # Rows are derived data: corrections go through LabelCorrection so they survive re-runs.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LabelCorrection)
class LabelCorrectionAdmin(admin.ModelAdmin[LabelCorrection]):
    list_display = ("interaction", "field", "value", "previous", "corrected_by", "created_at")
    list_filter = ("field",)
    raw_id_fields = ("interaction",)

    # Made through do_correct_label (which validates and updates the Enrichment row).
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Thanks)
class ThanksAdmin(admin.ModelAdmin[Thanks]):
    list_display = ("interaction", "from_member", "to_member", "created_at")
    raw_id_fields = ("interaction", "from_member", "to_member")


@admin.register(TrackedTerm)
class TrackedTermAdmin(admin.ModelAdmin[TrackedTerm]):
    list_display = ("term", "kind", "is_active", "created_by", "created_at")
    list_filter = ("kind", "is_active")
    exclude = ("created_by",)

    def save_model(self, request: HttpRequest, obj: TrackedTerm, form: Any, change: bool) -> None:
        obj.term = normalize_term(obj.term, obj.kind)
        if not change and request.user.is_authenticated:
            obj.created_by = request.user
        was_active = change and TrackedTerm.objects.filter(pk=obj.pk, is_active=True).exists()
        super().save_model(request, obj, form, change)
        # New, or active again: find it in what is already there.
        if obj.is_active and not was_active:
            queue_term_matching(obj)


@admin.register(TermMatch)
class TermMatchAdmin(admin.ModelAdmin[TermMatch]):
    list_display = ("term", "interaction")
    list_filter = ("term",)
    raw_id_fields = ("interaction",)
