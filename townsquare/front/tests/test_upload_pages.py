"""Uploading an export from the Imports page, and following its import on the upload's page."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from townsquare.connectors.models import ImportRun, RunStatus, Upload, UploadStatus
from townsquare.connectors.tests.zips import zip_entries, zip_folder
from townsquare.connectors.uploads import run_upload
from townsquare.lib.testing import import_export, make_staff

pytestmark = pytest.mark.django_db

GENERIC = Path(__file__).resolve().parents[2] / "connectors" / "generic" / "fixtures"


@pytest.fixture(autouse=True)
def uploads_dir(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "uploads"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def bob_client(client: Client) -> Client:
    """Bob is a manager: he may upload exports."""
    client.force_login(make_staff("bob"))
    return client


def post_upload(client: Client, path: Path, format: str, **fields: Any) -> Any:
    with path.open("rb") as file:
        return client.post(reverse("imports"), {"file": file, "format": format, **fields})


def progress(client: Client, item: Upload) -> str:
    response = client.get(reverse("upload", args=[item.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    return str(response.content.decode())


def test_a_manager_sees_the_upload_form(bob_client: Client) -> None:
    page = bob_client.get(reverse("imports")).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert "csrfmiddlewaretoken" in page
    assert '<option value="slack">slack — the workspace export .zip</option>' in page
    assert "stackexchange — one site&#x27;s unpacked data dump folder" in page
    assert "Upload and import" in page


def test_a_viewer_sees_the_uploads_but_no_form(client: Client, charlie: User) -> None:
    Upload.objects.create(path="/x/a.zip", file_name="a.zip", size=1, format="slack")
    client.force_login(charlie)
    page = client.get(reverse("imports")).content.decode()
    assert "Upload and import" not in page
    assert "Recent uploads" in page and "a.zip" in page


def test_a_viewer_cannot_upload(client: Client, charlie: User, tmp_path: Path) -> None:
    client.force_login(charlie)
    archive = zip_entries(tmp_path / "export.zip", {"users.json": b"[]"})
    response = post_upload(client, archive, "slack")
    assert response.status_code == 403
    assert "Only managers and admins can import exports." in response.content.decode()
    assert not Upload.objects.exists()


def test_a_manager_uploads_a_slack_zip_and_follows_its_import(
    bob_client: Client, shared_data: Path, tmp_path: Path
) -> None:
    folder = shared_data / "slack_houstondatavis"
    cli = import_export("slack", folder, source="from the CLI")
    archive = zip_folder(folder, tmp_path / "houstondatavis.zip")
    response = post_upload(bob_client, archive, "slack", source_name="Houston")
    item = Upload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/imports/uploads/{item.pk}/"
    assert item.uploaded_by is not None and item.uploaded_by.username == "bob"

    page = bob_client.get(response["Location"]).content.decode()
    assert "“houstondatavis.zip” is uploaded; follow its import here." in page
    assert '<span class="status status-queued">Queued</span>' in page
    # While it waits or runs, the progress asks for itself again every 2 s...
    assert f'hx-get="/imports/uploads/{item.pk}/" hx-trigger="every 2s"' in page
    assert 'aria-live="polite"' in page

    run_upload(item.pk)  # what the worker does
    run = ImportRun.objects.exclude(pk=cli.pk).get()
    partial = progress(bob_client, item)
    assert partial.startswith('<div id="upload-progress"')
    # ...and stops once the import has finished.
    assert "hx-trigger" not in partial
    assert '<span class="status status-succeeded">Succeeded</span>' in partial
    assert f"<dt>Records read</dt><dd>{cli.records_seen}</dd>" in partial
    assert f"<dt>Created</dt><dd>{cli.count('created')}</dd>" in partial
    assert f"<dt>Rejected</dt><dd>{cli.rejected_count}</dd>" in partial
    assert f'<a href="/imports/{run.pk}/">Open import #{run.pk}</a>' in partial
    listing = bob_client.get(reverse("imports")).content.decode()
    assert f'<a href="/imports/uploads/{item.pk}/">houstondatavis.zip</a>' in listing


def test_a_failed_upload_shows_its_error_and_can_be_retried(
    bob_client: Client, tmp_path: Path
) -> None:
    archive = zip_entries(tmp_path / "dump.zip", {"Users.xml": b"<users/>"})
    post_upload(bob_client, archive, "stackexchange")
    item = Upload.objects.get()
    run_upload(item.pk)
    partial = progress(bob_client, item)
    assert '<span class="status status-failed">Failed</span>' in partial
    assert "dump.zip:Posts.xml: expected Posts.xml in a Stack Exchange data dump" in partial
    assert "The file is kept" in partial
    assert "Retry</button>" in partial
    assert Path(item.path).is_file()

    response = bob_client.post(reverse("upload_retry", args=[item.pk]))
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == UploadStatus.QUEUED
    page = bob_client.get(response["Location"]).content.decode()
    assert "The import of “dump.zip” is queued again." in page
    assert "hx-trigger" in page


def test_a_viewer_sees_no_retry_and_cannot_retry(
    client: Client, charlie: User, tmp_path: Path
) -> None:
    item = Upload.objects.create(
        path=str(tmp_path / "a.zip"), file_name="a.zip", size=1, format="slack", status="failed"
    )
    client.force_login(charlie)
    assert "Retry</button>" not in progress(client, item)
    response = client.post(reverse("upload_retry", args=[item.pk]))
    assert response.status_code == 403
    assert "Only managers and admins can import exports." in response.content.decode()
    item.refresh_from_db()
    assert item.status == UploadStatus.FAILED


def test_it_shows_the_running_import_counts(bob_client: Client, tmp_path: Path) -> None:
    run = ImportRun.objects.create(
        format="slack", path="x", records_seen=1234, rejected_count=5, counts={"created": {"a": 7}}
    )
    item = Upload.objects.create(
        path="/x/a.zip", file_name="a.zip", size=1, format="slack", status="running", run=run
    )
    partial = progress(bob_client, item)
    assert 'hx-trigger="every 2s"' in partial
    assert "Importing…" in partial
    assert "<dt>Records read</dt><dd>1234</dd>" in partial
    assert "<dt>Created</dt><dd>7</dd>" in partial
    assert "<dt>Rejected</dt><dd>5</dd>" in partial
    assert "Open import" not in partial  # only once it has finished
    assert run.status == RunStatus.RUNNING


def test_an_import_whose_worker_died_can_be_retried(bob_client: Client, tmp_path: Path) -> None:
    # Another machine's run whose heartbeat stopped long ago: its worker is gone.
    run = ImportRun.objects.create(
        format="slack",
        path="x",
        hostname="elsewhere",
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    item = Upload.objects.create(
        path="/x/a.zip", file_name="a.zip", size=1, format="slack", status="running", run=run
    )
    partial = progress(bob_client, item)
    assert '<span class="status status-failed">Failed</span>' in partial
    assert "its worker ended" in partial
    assert "Retry</button>" in partial


@pytest.mark.parametrize(
    ("name", "format", "fields", "error"),
    [
        (
            "comments.csv",
            "slack",
            {},
            "A slack upload must be a .zip file (the workspace export .zip); "
            "“comments.csv” is not.",
        ),
        (
            "comments.csv",
            "csv",
            {},
            "A csv import needs a mapping of Townsquare&#x27;s fields to the file&#x27;s columns",
        ),
        (
            "comments.csv",
            "csv",
            {"mapping_text": '{"fields": '},
            "The mapping, line 1 column 11: expected JSON (Expecting value).",
        ),
        ("comments.csv", "myspace", {}, "Unknown format “myspace”: pick one from the list."),
    ],
)
def test_it_refuses_a_bad_upload_with_a_clear_error(
    bob_client: Client,
    uploads_dir: Path,
    name: str,
    format: str,
    fields: dict[str, str],
    error: str,
) -> None:
    file = SimpleUploadedFile(name, (GENERIC / "forum-comments.csv").read_bytes())
    response = bob_client.post(reverse("imports"), {"file": file, "format": format, **fields})
    assert response.status_code == 400
    page = response.content.decode()
    assert error in page
    assert 'class="field-error" role="alert"' in page
    assert not Upload.objects.exists()
    assert not uploads_dir.exists() or list(uploads_dir.iterdir()) == []


def test_it_refuses_a_zip_slip_in_the_form(bob_client: Client, tmp_path: Path) -> None:
    archive = zip_entries(tmp_path / "dump.zip", {"../../evil.xml": b"x"})
    response = post_upload(bob_client, archive, "stackexchange")
    assert response.status_code == 400
    assert "points outside the zip&#x27;s folder" in response.content.decode()


def test_it_refuses_a_file_over_the_limit(bob_client: Client, settings: Any) -> None:
    settings.TOWNSQUARE_UPLOAD_MAX_MB = 1
    file = SimpleUploadedFile("big.csv", b"x" * (3 * 1024 * 1024))
    response = bob_client.post(reverse("imports"), {"file": file, "format": "csv"})
    assert response.status_code == 400
    assert "uploads are limited to 1 MB (TOWNSQUARE_UPLOAD_MAX_MB)" in response.content.decode()


def test_it_imports_a_csv_with_a_pasted_mapping(bob_client: Client) -> None:
    mapping = (GENERIC / "forum-comments.mapping.json").read_text()
    response = post_upload(
        bob_client, GENERIC / "forum-comments.csv", "csv", mapping_text=mapping, source_name="F"
    )
    assert response.status_code == 302
    item = Upload.objects.get()
    assert run_upload(item.pk) == "succeeded"
    assert Path(item.options["mapping"]).read_text() == mapping.strip()


def test_it_escapes_uploaded_names(bob_client: Client, tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script>"
    item = Upload.objects.create(
        path=str(tmp_path / "a.zip"),
        file_name=f"{hostile}.zip",
        size=1,
        format="slack",
        source_name=hostile,
        status="failed",
        error=hostile,
    )
    for url in (reverse("imports"), reverse("upload", args=[item.pk])):
        page = bob_client.get(url).content.decode()
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_upload_form_needs_its_csrf_token(tmp_path: Path) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff("bob"))
    file = BytesIO(b"PK")
    file.name = "export.zip"
    response = client.post(reverse("imports"), {"file": file, "format": "slack"})
    assert response.status_code == 403
    assert not Upload.objects.exists()


def test_an_unknown_upload_is_a_404(bob_client: Client) -> None:
    assert bob_client.get(reverse("upload", args=[404])).status_code == 404
    assert re.fullmatch(r"/imports/uploads/\d+/retry/", reverse("upload_retry", args=[1]))
