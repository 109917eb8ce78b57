from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from townsquare.community.models import Source


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    INTERRUPTED = "interrupted", "Interrupted"


class ImportRun(models.Model):
    """One import of an export (or one sync): what it read, wrote, rejected and how it ended."""

    source = models.ForeignKey(Source, models.CASCADE, null=True, related_name="runs")
    format = models.CharField(max_length=32)
    path = models.CharField(max_length=1000)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Refreshed at every batch: a "running" run whose heartbeat stopped was killed.
    heartbeat_at = models.DateTimeField(default=timezone.now)
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.IntegerField(null=True, blank=True)
    records_seen = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    # {"created": {"message": 12, "identity": 3, ...}, "updated": {...}, "unchanged": {...}}
    counts = models.JSONField(default=dict)
    log = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.format} import #{self.pk} ({self.status})"

    @property
    def duration(self) -> timedelta | None:
        end = self.finished_at or (self.heartbeat_at if self.status != RunStatus.RUNNING else None)
        return (end - self.started_at) if end else None

    def count(self, outcome: str) -> int:
        return sum(self.counts.get(outcome, {}).values())


class RejectedRecord(models.Model):
    """A record an import could not use, kept with where it was and why it was refused."""

    run = models.ForeignKey(ImportRun, models.CASCADE, related_name="rejected")
    location = models.CharField(max_length=1000)
    reason = models.TextField()
    excerpt = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


class UploadStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Upload(models.Model):
    """An export file a staff member uploaded through the web pages, kept on disk, and its
    import (connectors/uploads.py)."""

    # The stored file, under MEDIA_ROOT: kept after the import, so a failed one can be retried.
    path = models.CharField(max_length=1000)
    file_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    format = models.CharField(max_length=32)
    source_name = models.CharField(max_length=200, blank=True)
    # Importer options, as do_import takes them: {"mapping": "<path of mapping.json>"}.
    options = models.JSONField(default=dict, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=16, choices=UploadStatus.choices, default=UploadStatus.QUEUED
    )
    # The latest attempt's run; earlier attempts stay in the list of runs.
    run = models.ForeignKey(
        ImportRun, models.SET_NULL, null=True, blank=True, related_name="uploads"
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"upload #{self.pk} {self.file_name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (UploadStatus.SUCCEEDED, UploadStatus.FAILED)
