from __future__ import annotations

from datetime import timedelta

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
