"""Saving, renaming and deleting segments. Views and commands call these."""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth.models import User

from townsquare.segments.models import Segment

NAME_LENGTH = Segment._meta.get_field("name").max_length or 100


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
        raise ValueError(f"There is already a segment named “{name}”.")


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
    return Segment.objects.create(
        name=name,
        description=description.strip(),
        filters=dict(filters),
        created_by=actor,
    )


def do_rename_segment(*, segment: Segment, name: str, description: str | None = None) -> None:
    name = normalize_segment_name(name)
    _check_unique(name, exclude=segment.pk)
    segment.name = name
    update = ["name"]
    if description is not None:
        segment.description = description.strip()
        update.append("description")
    segment.save(update_fields=update)


def do_delete_segment(*, segment: Segment) -> None:
    segment.delete()
