from django.contrib import admin

from townsquare.connectors.models import ImportRun, RejectedRecord


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin[ImportRun]):
    list_display = ("id", "format", "source", "status", "started_at", "records_seen")
    list_filter = ("status", "format")


@admin.register(RejectedRecord)
class RejectedRecordAdmin(admin.ModelAdmin[RejectedRecord]):
    list_display = ("run", "location", "reason")
    raw_id_fields = ("run",)
