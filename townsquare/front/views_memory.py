"""The member's memory on the profile page: notes, touchpoints, what they taught us, tags and
custom fields, and the one-click "taught us something" on any message.

Every write is a plain form POST that redirects back to the member page (so it all works
without JavaScript); the member page's forms carry htmx attributes that swap only their own
section from that page. A form with errors comes back on a page of its own, status 400, inside
a section of the same id, so htmx can swap it in place too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from townsquare.community import memory
from townsquare.community.models import (
    Interaction,
    KnowledgeEntry,
    Member,
    MemberTag,
    Note,
    Tag,
)

# The module, not its names: views imports this module too, for the member page's context.
from townsquare.front import views as pages
from townsquare.front.access import can_change_note, can_read, can_write_memory, requires
from townsquare.front.forms_memory import (
    CustomFieldForm,
    KnowledgeForm,
    NoteForm,
    TagForm,
    TouchpointForm,
)

# Suggested touchpoint channels, before the member's own platforms.
CHANNEL_SUGGESTIONS = ("email", "DM", "call", "in person", "video call")


def member_memory(request: HttpRequest, person: Member) -> dict[str, Any]:
    """The member page's memory context. The lists are lazy querysets: the page costs one query
    for each (tags, notes, touchpoints, knowledge) however many rows they hold, and the
    timeline's htmx refresh, which does not show them, costs none."""
    platforms = sorted(
        {identity.source.get_platform_display() for identity in person.identities.all()}
    )
    return {
        "can_write_memory": can_write_memory(request.user),
        "memory_tags": MemberTag.objects.filter(member=person)
        .select_related("tag")
        .order_by("tag__name", "tag_id"),
        "memory_notes": person.notes.select_related("author"),
        "memory_touchpoints": person.touchpoints.select_related("staff"),
        # With whether a moderator hid the message: its title and link are its words.
        "memory_knowledge": person.knowledge.select_related(
            "interaction__identity", "interaction__moderation", "created_by"
        ),
        "memory_fields": sorted((person.custom_fields or {}).items(), key=lambda kv: kv[0].lower()),
        "channel_suggestions": [*CHANNEL_SUGGESTIONS, *platforms],
        "note_form": NoteForm(prefix="note"),
        "touchpoint_form": TouchpointForm(prefix="touchpoint"),
        "knowledge_form": KnowledgeForm(prefix="knowledge"),
        "tag_form": TagForm(prefix="tag"),
        "field_form": CustomFieldForm(prefix="field"),
    }


def _require_writer(request: HttpRequest) -> None:
    if not can_write_memory(request.user):
        raise PermissionDenied("Only managers and admins can change a member's memory.")


def _back_to(person_id: int, anchor: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse('member', args=[person_id])}#{anchor}")


def _form_page(
    request: HttpRequest,
    *,
    person: Member,
    form: forms.Form,
    action: str,
    section: str,
    heading: str,
    submit: str,
    extra: dict[str, Any] | None = None,
    status: int = 400,
) -> HttpResponse:
    """A memory form on a page of its own: with its errors after a bad POST, or to edit."""
    context = {
        "section": "members",
        "member": person,
        "form": form,
        "action": action,
        "section_id": section,
        "heading": heading,
        "submit": submit,
        # Swapped into the member page by htmx: the form keeps posting through htmx there.
        "inline": pages.is_htmx(request),
        **(extra or {}),
    }
    # htmx swaps only successful responses: a form with errors is a 200 for it.
    return render(
        request, "front/memory_form.html", context, status=200 if pages.is_htmx(request) else status
    )


def _saved(request: HttpRequest, text: str) -> None:
    if not pages.is_htmx(request):
        messages.success(request, text)


def _submit(
    request: HttpRequest,
    *,
    person: Member,
    form: forms.Form,
    save: Callable[[dict[str, Any]], str],
    section: str,
    action_name: str,
    heading: str,
    submit: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """The shape of every "add to a member's memory" POST: a valid form is saved through its
    service (`save` returns the confirmation; a ValueError becomes a form error) and leads back
    to its section of the member page; otherwise the form comes back with its errors."""
    if form.is_valid():
        try:
            confirmation = save(form.cleaned_data)
        except ValueError as e:
            form.add_error(None, str(e))
        else:
            _saved(request, confirmation)
            return _back_to(person.pk, section)
    return _form_page(
        request,
        person=person,
        form=form,
        action=reverse(action_name, args=[person.pk]),
        section=section,
        heading=heading,
        submit=submit,
        extra=extra,
    )


@requires(can_read)
@require_POST
def add_note(request: HttpRequest, member_id: int) -> HttpResponse:
    _require_writer(request)
    person = get_object_or_404(Member, pk=member_id)

    def save(data: dict[str, Any]) -> str:
        memory.do_add_note(member=person, author=request.user, text=data["text"])  # type: ignore[arg-type]
        return "Note added."

    return _submit(
        request,
        person=person,
        form=NoteForm(request.POST, prefix="note"),
        save=save,
        section="memory-notes",
        action_name="memory_add_note",
        heading="Add a note",
        submit="Add note",
    )


def _own_note(request: HttpRequest, note_id: int) -> Note:
    note = get_object_or_404(Note.objects.select_related("member"), pk=note_id)
    if not can_change_note(request.user, note):
        raise PermissionDenied("Only a note's author can change it.")
    return note


@requires(can_read)
@require_http_methods(["GET", "POST"])
def edit_note(request: HttpRequest, note_id: int) -> HttpResponse:
    note = _own_note(request, note_id)
    status = 200
    if request.method == "POST":
        form = NoteForm(request.POST, prefix="note")
        if form.is_valid():
            memory.do_edit_note(note=note, text=form.cleaned_data["text"])
            _saved(request, "Note saved.")
            return _back_to(note.member_id, f"note-{note.pk}")
        status = 400
    else:
        form = NoteForm(prefix="note", initial={"text": note.text})
    return _form_page(
        request,
        person=note.member,
        form=form,
        action=reverse("memory_edit_note", args=[note.pk]),
        section="memory-notes",
        heading="Edit your note",
        submit="Save note",
        status=status,
    )


@requires(can_read)
@require_POST
def delete_note(request: HttpRequest, note_id: int) -> HttpResponse:
    note = _own_note(request, note_id)
    member_id = note.member_id
    memory.do_delete_note(note=note)
    _saved(request, "Note deleted.")
    return _back_to(member_id, "memory-notes")


@requires(can_read)
@require_POST
def log_touchpoint(request: HttpRequest, member_id: int) -> HttpResponse:
    _require_writer(request)
    person = get_object_or_404(Member, pk=member_id)

    def save(data: dict[str, Any]) -> str:
        memory.do_log_touchpoint(
            member=person,
            staff=request.user,  # type: ignore[arg-type]
            happened_at=data["happened_at"],
            channel=data["channel"],
            reason=data["reason"],
            outcome=data["outcome"],
        )
        return "Touchpoint logged."

    return _submit(
        request,
        person=person,
        form=TouchpointForm(request.POST, prefix="touchpoint"),
        save=save,
        section="memory-touchpoints",
        action_name="memory_log_touchpoint",
        heading="Log a touchpoint",
        submit="Log touchpoint",
        extra={"channel_suggestions": CHANNEL_SUGGESTIONS},
    )


@requires(can_read)
@require_POST
def add_knowledge(request: HttpRequest, member_id: int) -> HttpResponse:
    _require_writer(request)
    person = get_object_or_404(Member, pk=member_id)

    def save(data: dict[str, Any]) -> str:
        memory.do_add_knowledge(
            member=person,
            created_by=request.user,  # type: ignore[arg-type]
            title=data["title"],
            url=data["url"],
            note=data["note"],
        )
        return "Saved what they taught us."

    return _submit(
        request,
        person=person,
        form=KnowledgeForm(request.POST, prefix="knowledge"),
        save=save,
        section="memory-knowledge",
        action_name="memory_add_knowledge",
        heading="What they taught us",
        submit="Save",
    )


def _message_url(item: Interaction) -> str:
    if item.conversation_id is not None:
        return f"{reverse('conversation', args=[item.conversation_id])}#i{item.pk}"
    if item.member_id is not None:
        return f"{reverse('member', args=[item.member_id])}#i{item.pk}"
    return reverse("home")


@requires(can_read)
@require_POST
def taught_us(request: HttpRequest, interaction_id: int) -> HttpResponse:
    """One click on a message: a knowledge entry credited to its author, then its edit form."""
    _require_writer(request)
    item = get_object_or_404(
        Interaction.objects.select_related("member", "source"), pk=interaction_id
    )
    back = pages.safe_next(request, _message_url(item))
    try:
        entry = memory.do_add_knowledge_from_message(interaction=item, created_by=request.user)  # type: ignore[arg-type]
    except ValueError as e:
        messages.error(request, str(e))
        return HttpResponseRedirect(back)
    edit = reverse("memory_edit_knowledge", args=[entry.pk])
    return HttpResponseRedirect(f"{edit}?{urlencode({'next': back})}")


@requires(can_read)
@require_http_methods(["GET", "POST"])
def edit_knowledge(request: HttpRequest, entry_id: int) -> HttpResponse:
    _require_writer(request)
    entry = get_object_or_404(
        KnowledgeEntry.objects.select_related("member", "interaction__identity"), pk=entry_id
    )
    back = pages.safe_next(
        request, f"{reverse('member', args=[entry.member_id])}#knowledge-{entry.pk}"
    )
    status = 200
    if request.method == "POST":
        form = KnowledgeForm(request.POST, prefix="knowledge")
        if form.is_valid():
            data = form.cleaned_data
            try:
                memory.do_edit_knowledge(
                    entry=entry, title=data["title"], url=data["url"], note=data["note"]
                )
            except ValueError as e:
                form.add_error(None, str(e))
            else:
                name = entry.member.display_name or "this member"
                _saved(request, f"Saved what {name} taught us, with credit.")
                return HttpResponseRedirect(back)
        status = 400
    else:
        form = KnowledgeForm(
            prefix="knowledge",
            initial={"title": entry.title, "url": entry.url, "note": entry.note},
        )
    return _form_page(
        request,
        person=entry.member,
        form=form,
        action=reverse("memory_edit_knowledge", args=[entry.pk]),
        section="memory-knowledge",
        heading="What they taught us",
        submit="Save",
        extra={"entry": entry, "next": back},
        status=status,
    )


@requires(can_read)
@require_POST
def delete_knowledge(request: HttpRequest, entry_id: int) -> HttpResponse:
    _require_writer(request)
    entry = get_object_or_404(KnowledgeEntry, pk=entry_id)
    member_id = entry.member_id
    memory.do_delete_knowledge(entry=entry)
    _saved(request, "Removed from what they taught us.")
    return _back_to(member_id, "memory-knowledge")


@requires(can_read)
@require_POST
def add_tag(request: HttpRequest, member_id: int) -> HttpResponse:
    _require_writer(request)
    person = get_object_or_404(Member, pk=member_id)

    def save(data: dict[str, Any]) -> str:
        tag = memory.do_tag_members(
            members=[person],
            tag_name=data["name"],
            actor=request.user,  # type: ignore[arg-type]
        )
        return f"Tagged “{tag.name}”."

    return _submit(
        request,
        person=person,
        form=TagForm(request.POST, prefix="tag"),
        save=save,
        section="memory-tags",
        action_name="memory_add_tag",
        heading="Add a tag",
        submit="Add tag",
    )


@requires(can_read)
@require_POST
def remove_tag(request: HttpRequest, member_id: int, tag_id: int) -> HttpResponse:
    _require_writer(request)
    person = get_object_or_404(Member, pk=member_id)
    tag = get_object_or_404(Tag, pk=tag_id)
    memory.do_untag_member(member=person, tag=tag)
    _saved(request, f"Removed the tag “{tag.name}”.")
    return _back_to(person.pk, "memory-tags")


@requires(can_read)
@require_POST
def set_field(request: HttpRequest, member_id: int) -> HttpResponse:
    """Add, change or (with an empty value) remove one custom field."""
    _require_writer(request)
    person = get_object_or_404(Member, pk=member_id)

    def save(data: dict[str, Any]) -> str:
        name, value = data["name"], data["value"]
        memory.do_set_custom_field(member=person, name=name, value=value)
        return f"Saved “{name}”." if value.strip() else f"Removed “{name}”."

    return _submit(
        request,
        person=person,
        form=CustomFieldForm(request.POST, prefix="field"),
        save=save,
        section="memory-fields",
        action_name="memory_set_field",
        heading="Custom field",
        submit="Save field",
    )


urlpatterns = [
    path("members/<int:member_id>/notes/", add_note, name="memory_add_note"),
    path("notes/<int:note_id>/edit/", edit_note, name="memory_edit_note"),
    path("notes/<int:note_id>/delete/", delete_note, name="memory_delete_note"),
    path("members/<int:member_id>/touchpoints/", log_touchpoint, name="memory_log_touchpoint"),
    path("members/<int:member_id>/knowledge/", add_knowledge, name="memory_add_knowledge"),
    path("knowledge/<int:entry_id>/edit/", edit_knowledge, name="memory_edit_knowledge"),
    path("knowledge/<int:entry_id>/delete/", delete_knowledge, name="memory_delete_knowledge"),
    path("interactions/<int:interaction_id>/taught-us/", taught_us, name="memory_taught_us"),
    path("members/<int:member_id>/tags/", add_tag, name="memory_add_tag"),
    path("members/<int:member_id>/tags/<int:tag_id>/remove/", remove_tag, name="memory_remove_tag"),
    path("members/<int:member_id>/fields/", set_field, name="memory_set_field"),
]
