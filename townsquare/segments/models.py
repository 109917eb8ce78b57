"""Segments: saved member filters whose membership is recomputed each time they are used."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Segment(models.Model):
    """A named, saved member filter ("French speakers gone quiet"): dynamic, never a list."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    # The member list's query-string parameters, normalized: {"language": "fr", ...}.
    filters = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
