"""Saving, renaming and deleting segments. Views and commands call these."""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from townsquare.segments.models import Segment

NAME_LENGTH = Segment._meta.get_field("name").max_length or 100


class SegmentNameTaken(ValueError):
    """Another segment has this name (in any letter case): a conflict, not a bad value."""


def normalize_segment_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValueError("A segment needs a name.")
    if len(name) > NAME_LENGTH:
        raise ValueError(f"A segment's name is at most {NAME_LENGTH} characters.")
    return name


def _check_unique(name: str, *, exclude: int | None = None) -> None:
    taken = Segment.objects.filter(name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise SegmentNameTaken(f"There is already a segment named “{name}”.")


def _save(segment: Segment, *, update_fields: list[str] | None = None) -> None:
    # `_check_unique` reads before this writes: a concurrent save of the same name fails here,
    # and is told as the same conflict.
    try:
        with transaction.atomic():
            segment.save(update_fields=update_fields)
    except IntegrityError:
        _check_unique(segment.name, exclude=segment.pk)
        raise


def do_save_segment(
    *,
    name: str,
    filters: Mapping[str, str],
    actor: User | None,
    description: str = "",
) -> Segment:
    """Save the member list's filters (its query-string parameters) under a name."""
    name = normalize_segment_name(name)
    _check_unique(name)
    segment = Segment(
        name=name,
        description=description.strip(),
        filters=dict(filters),
        created_by=actor,
    )
    _save(segment)
    return segment


def do_rename_segment(*, segment: Segment, name: str, description: str | None = None) -> None:
    name = normalize_segment_name(name)
    _check_unique(name, exclude=segment.pk)
    segment.name = name
    update = ["name"]
    if description is not None:
        segment.description = description.strip()
        update.append("description")
    _save(segment, update_fields=update)


def do_set_segment_filters(*, segment: Segment, filters: Mapping[str, str]) -> None:
    """Change what the segment selects: the member list's query-string parameters, as
    `MemberFilters.params` writes them."""
    segment.filters = dict(filters)
    segment.save(update_fields=["filters"])


def do_delete_segment(*, segment: Segment) -> None:
    segment.delete()
