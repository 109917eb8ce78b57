"""The Imports page and exports uploaded through it: the upload form (managers and admins),
the upload's own page, which polls its progress while the import runs, and Retry."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from townsquare.connectors.models import Upload, UploadStatus
from townsquare.connectors.uploads import (
    UPLOAD_FORMATS,
    UploadRefused,
    check_file_name,
    do_retry_upload,
    do_upload,
    mark_interrupted_uploads,
    max_upload_bytes,
)
from townsquare.front import queries
from townsquare.front import views as pages
from townsquare.front.access import can_import, can_read, requires

RECENT_UPLOADS = 10
# A mapping file is a few lines of JSON.
MAX_MAPPING_BYTES = 1024 * 1024


class UploadForm(forms.Form):
    file = forms.FileField(label="Export file")
    format = forms.ChoiceField(
        label="Format",
        choices=[(name, f"{name} — {spec.hint}") for name, spec in UPLOAD_FORMATS.items()],
        error_messages={"invalid_choice": "Unknown format “%(value)s”: pick one from the list."},
    )
    source_name = forms.CharField(
        label="Source name",
        required=False,
        max_length=200,
        help_text="Optional; by default the format and the file's name, e.g. slack:acme.",
    )
    mapping = forms.FileField(
        label="Mapping file (csv and jsonl only)",
        required=False,
        help_text="A JSON file naming which column holds which field: see docs/generic-import.md.",
    )
    mapping_text = forms.CharField(
        label="…or paste the mapping",
        required=False,
        max_length=MAX_MAPPING_BYTES,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": '{"fields": {"id": "COMMENT_ID"}}'}),
    )

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        file, format = data.get("file"), data.get("format")
        if file is not None and format:
            try:
                check_file_name(format=format, file_name=file.name, size=file.size)
            except UploadRefused as e:
                self.add_error(e.field, e.message)
        mapping = data.get("mapping")
        if mapping is not None and mapping.size > MAX_MAPPING_BYTES:
            self.add_error("mapping", "A mapping file is at most 1 MB of JSON.")
        return data

    def mapping_bytes(self) -> bytes | None:
        """The mapping, uploaded or pasted (the file wins), or None."""
        mapping = self.cleaned_data.get("mapping")
        if mapping is not None:
            return b"".join(mapping.chunks())
        text: str = self.cleaned_data.get("mapping_text", "").strip()
        return text.encode("utf-8") if text else None


def _importer(request: HttpRequest) -> User:
    user = request.user
    if not can_import(user) or not isinstance(user, User):
        raise PermissionDenied("Only managers and admins can import exports.")
    return user


@requires(can_read)
@require_http_methods(["GET", "HEAD", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    """Every import run, the recent uploads and, for managers and admins, the upload form.
    POST: store the export and queue its import, then follow it on the upload's page."""
    form: UploadForm | None = None
    if request.method == "POST":
        user = _importer(request)
        form, upload = _receive(request, user)
        if upload is not None:
            messages.success(request, f"“{upload.file_name}” is uploaded; follow its import here.")
            return HttpResponseRedirect(reverse("upload", args=[upload.pk]))
    elif can_import(request.user):
        form = UploadForm()
    context = {
        "section": "imports",
        "page": pages.paginate(request, queries.import_runs()),
        "uploads": Upload.objects.select_related("run", "uploaded_by")[:RECENT_UPLOADS],
        "form": form,
        "max_upload_mb": max_upload_bytes() // (1024 * 1024),
    }
    response = pages.render_listing(
        request,
        "front/imports.html",
        context,
        partial="front/_import_results.html",
        target="import-results",
    )
    if form is not None and form.errors:
        response.status_code = 400
    return response


def _receive(request: HttpRequest, user: User) -> tuple[UploadForm, Upload | None]:
    """The bound form and the upload it made, or None with the form's errors set."""
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return form, None
    file = form.cleaned_data["file"]
    try:
        upload = do_upload(
            chunks=file.chunks(),
            file_name=file.name,
            size=file.size,
            format=form.cleaned_data["format"],
            source_name=form.cleaned_data["source_name"].strip(),
            mapping=form.mapping_bytes(),
            uploaded_by=user,
        )
    except UploadRefused as e:
        form.add_error(e.field, e.message)
        return form, None
    return form, upload


@requires(can_read)
@require_safe
def upload(request: HttpRequest, upload_id: int) -> HttpResponse:
    """One upload and its import's progress; htmx asks for the progress alone every 2 s while
    the import is queued or running."""
    uploads = Upload.objects.select_related("run__source", "uploaded_by")
    item = get_object_or_404(uploads, pk=upload_id)
    if item.status == UploadStatus.RUNNING and mark_interrupted_uploads():
        item = get_object_or_404(uploads, pk=upload_id)
    context = {"section": "imports", "upload": item, "can_import": can_import(request.user)}
    if pages.is_htmx(request):
        return render(request, "front/_upload_progress.html", context)
    return render(request, "front/upload.html", context)


@requires(can_read)
@require_POST
def upload_retry(request: HttpRequest, upload_id: int) -> HttpResponse:
    """Queue a failed upload's import again, from the file kept on disk."""
    _importer(request)
    item = get_object_or_404(Upload, pk=upload_id)
    if do_retry_upload(upload=item):
        messages.success(request, f"The import of “{item.file_name}” is queued again.")
    else:
        messages.info(request, f"The import of “{item.file_name}” is not failed: nothing to retry.")
    return HttpResponseRedirect(reverse("upload", args=[item.pk]))


urlpatterns = [
    path("imports/", imports, name="imports"),
    path("imports/uploads/<int:upload_id>/", upload, name="upload"),
    path("imports/uploads/<int:upload_id>/retry/", upload_retry, name="upload_retry"),
]
