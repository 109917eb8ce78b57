"""Uploaded exports: stored, checked, unpacked safely and imported as the CLI imports them."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from townsquare.community.models import Interaction, Source
from townsquare.connectors.models import ImportRun, RunStatus, Upload, UploadStatus
from townsquare.connectors.registry import IMPORTERS
from townsquare.connectors.tasks import import_upload_task
from townsquare.connectors.tests.zips import zip_entries, zip_folder
from townsquare.connectors.uploads import (
    UPLOAD_FORMATS,
    UploadRefused,
    do_retry_upload,
    do_upload,
    mark_interrupted_uploads,
    run_upload,
)
from townsquare.lib.testing import import_export, make_staff

pytestmark = pytest.mark.django_db

GENERIC = Path(__file__).resolve().parents[1] / "generic" / "fixtures"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def uploads_dir(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "uploads"
    return Path(settings.MEDIA_ROOT)


def upload(path: Path, format: str, **kwargs: Any) -> Upload:
    """Upload a file as the form does: in chunks, never read whole."""
    with path.open("rb") as file:
        return do_upload(
            chunks=iter(lambda: file.read(64 * 1024), b""),
            file_name=kwargs.pop("file_name", path.name),
            size=kwargs.pop("size", path.stat().st_size),
            format=format,
            uploaded_by=kwargs.pop("uploaded_by", None),
            **kwargs,
        )


def refusal(path: Path, format: str, **kwargs: Any) -> UploadRefused:
    with pytest.raises(UploadRefused) as refused:
        upload(path, format, **kwargs)
    return refused.value


def outcome(run: ImportRun) -> tuple[int, int, dict[str, Any]]:
    return run.records_seen, run.rejected_count, run.counts


def test_every_format_can_be_uploaded() -> None:
    assert set(UPLOAD_FORMATS) == set(IMPORTERS)


def test_it_imports_an_uploaded_slack_zip_as_the_cli_imports_its_folder(
    shared_data: Path, tmp_path: Path, uploads_dir: Path
) -> None:
    folder = shared_data / "slack_houstondatavis"
    cli = import_export("slack", folder, source="from the CLI")
    archive = zip_folder(folder, tmp_path / "houstondatavis.zip")
    item = upload(archive, "slack", source_name="from the web", uploaded_by=make_staff("bob"))
    assert item.status == UploadStatus.QUEUED
    assert item.size == archive.stat().st_size
    assert Path(item.path).is_relative_to(uploads_dir)
    assert Path(item.path).read_bytes() == archive.read_bytes()

    assert run_upload(item.pk) == "succeeded"
    item.refresh_from_db()
    assert item.status == UploadStatus.SUCCEEDED and item.error == ""
    assert item.run is not None and item.run.status == RunStatus.SUCCEEDED
    assert item.run.source is not None and item.run.source.name == "from the web"
    assert outcome(item.run) == outcome(cli)
    assert cli.records_seen > 1000
    # As after a CLI import: enrichment and identity resolution are queued, once each.
    queued = list(DBTaskResult.objects.values_list("task_path", flat=True))
    assert queued.count("townsquare.listening.tasks.enrich_pending_task") == 2
    assert queued.count("townsquare.connectors.tasks.import_upload_task") == 1
    # The file stays, for a later retry or a look.
    assert Path(item.path).is_file()


@pytest.mark.parametrize("top", ["conlang.meta.stackexchange.com", None])
def test_it_unpacks_a_stack_exchange_zip_and_imports_its_folder(
    shared_data: Path, tmp_path: Path, top: str | None
) -> None:
    folder = shared_data / "stackexchange_conlang_meta"
    cli = import_export("stackexchange", folder, source="from the CLI")
    archive = zip_folder(folder, tmp_path / "conlang.meta.stackexchange.com.zip", top=top)
    item = upload(archive, "stackexchange")
    assert run_upload(item.pk) == "succeeded"
    item.refresh_from_db()
    assert item.run is not None
    assert outcome(item.run) == outcome(cli)
    # Named after the dump's folder (or the zip), as a CLI import of the folder is.
    assert item.run.source == Source.objects.get(
        name="stackexchange:conlang.meta.stackexchange.com"
    )


def test_it_imports_a_csv_with_an_uploaded_mapping() -> None:
    mapping_file = GENERIC / "forum-comments.mapping.json"
    cli = import_export(
        "csv", GENERIC / "forum-comments.csv", source="cli", options={"mapping": str(mapping_file)}
    )
    item = upload(
        GENERIC / "forum-comments.csv", "csv", source_name="web", mapping=mapping_file.read_bytes()
    )
    assert item.options == {"mapping": str(Path(item.path).parent / "mapping.json")}
    assert run_upload(item.pk) == "succeeded"
    item.refresh_from_db()
    assert item.run is not None
    assert outcome(item.run) == outcome(cli)
    web = Interaction.objects.filter(source__name="web").count()
    assert web == Interaction.objects.filter(source__name="cli").count() > 0


def test_the_task_imports_the_upload(settings: Any) -> None:
    settings.TASKS = IMMEDIATE
    mapping = (GENERIC / "forum-comments.mapping.json").read_bytes()
    item = upload(GENERIC / "forum-comments.csv", "csv", mapping=mapping)
    item.refresh_from_db()
    assert item.status == UploadStatus.SUCCEEDED
    assert import_upload_task.call(item.pk) == "succeeded"  # run once only
    assert ImportRun.objects.count() == 1


def test_it_keeps_a_malformed_export_with_its_error(tmp_path: Path) -> None:
    archive = zip_entries(tmp_path / "dump.zip", {"dump/Users.xml": b"<users/>"})
    item = upload(archive, "stackexchange")
    assert run_upload(item.pk) == "failed"
    item.refresh_from_db()
    assert item.status == UploadStatus.FAILED
    # The message names the file as people know it, not the server's upload folder.
    assert item.error == "dump.zip:dump/Posts.xml: expected Posts.xml in a Stack Exchange data dump"
    assert item.run is not None and item.run.status == RunStatus.FAILED
    assert Path(item.path).is_file()


def test_a_retry_imports_the_kept_file_once_the_cause_is_gone(tmp_path: Path) -> None:
    mapping = (GENERIC / "forum-comments.mapping.json").read_bytes()
    source = Source.objects.create(name="forum", platform="csv")
    busy = ImportRun.objects.create(source=source, format="csv", path="x", pid=os.getpid())
    item = upload(GENERIC / "forum-comments.csv", "csv", source_name="forum", mapping=mapping)
    assert run_upload(item.pk) == "failed"
    item.refresh_from_db()
    assert item.error == f"import #{busy.pk} into 'forum' is still running; wait for it to end"
    assert item.run is None

    ImportRun.objects.filter(pk=busy.pk).update(status=RunStatus.SUCCEEDED)
    assert do_retry_upload(upload=item)
    item.refresh_from_db()
    assert item.status == UploadStatus.QUEUED and item.error == ""
    assert run_upload(item.pk) == "succeeded"
    assert not do_retry_upload(upload=item)  # only a failed upload is retried
    assert ImportRun.objects.filter(status=RunStatus.SUCCEEDED).count() == 2


def test_it_reunpacks_the_zip_on_retry(shared_data: Path, tmp_path: Path) -> None:
    archive = zip_folder(shared_data / "stackexchange_conlang_meta", tmp_path / "conlang.zip")
    item = upload(archive, "stackexchange")
    Upload.objects.filter(pk=item.pk).update(status=UploadStatus.FAILED)
    unpacked = Path(item.path).with_name("conlang")
    unpacked.mkdir()
    (unpacked / "leftover.txt").write_text("from an interrupted attempt")
    assert do_retry_upload(upload=item)
    assert run_upload(item.pk) == "succeeded"
    assert not (unpacked / "leftover.txt").exists()
    assert (unpacked / "Posts.xml").is_file()


def test_it_fails_an_upload_whose_worker_died(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    run = ImportRun.objects.create(
        format="slack", path="x", hostname=os.uname().nodename, pid=int(dead.stdout)
    )
    item = Upload.objects.create(
        path=str(tmp_path / "a.zip"), file_name="a.zip", size=1, format="slack", run=run
    )
    Upload.objects.filter(pk=item.pk).update(status=UploadStatus.RUNNING)
    assert mark_interrupted_uploads() == 1
    item.refresh_from_db()
    assert item.status == UploadStatus.FAILED
    assert item.error == (
        "The import stopped before it finished (its worker ended); retry it to complete it."
    )
    assert do_retry_upload(upload=item)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../evil.xml", "points outside the zip's folder"),
        ("dump/../../evil.xml", "points outside the zip's folder"),
        ("/etc/evil.xml", "is an absolute path"),
        ("C:/evil.xml", "is an absolute path"),
        ("..\\evil.xml", "points outside the zip's folder"),
    ],
)
def test_it_refuses_a_zip_that_would_write_outside_its_folder(
    tmp_path: Path, uploads_dir: Path, name: str, problem: str
) -> None:
    archive = zip_entries(tmp_path / "dump.zip", {"Posts.xml": b"<posts/>", name: b"x"})
    refused = refusal(archive, "stackexchange")
    assert refused.field == "file"
    assert refused.message == f"“dump.zip” cannot be unpacked safely: “{name}” {problem}."
    assert not Upload.objects.exists()
    assert list(uploads_dir.iterdir()) == []  # nothing of it is kept
    assert not (tmp_path / "evil.xml").exists()


def test_it_refuses_a_zip_holding_a_link(tmp_path: Path) -> None:
    archive = tmp_path / "dump.zip"
    with zipfile.ZipFile(archive, "w") as out:
        link = zipfile.ZipInfo("dump/Posts.xml")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        out.writestr(link, "/etc/passwd")
    refused = refusal(archive, "stackexchange")
    assert refused.message.endswith("“dump/Posts.xml” is a symbolic link.")


def test_it_refuses_a_zip_that_unpacks_too_large(settings: Any, tmp_path: Path) -> None:
    settings.TOWNSQUARE_UPLOAD_MAX_UNZIPPED_MB = 1
    archive = zip_entries(tmp_path / "bomb.zip", {"Posts.xml": b"\0" * (2 * 1024 * 1024)})
    assert archive.stat().st_size < 10_000
    refused = refusal(archive, "stackexchange")
    assert refused.message == (
        "“bomb.zip” unpacks to more than 1 MB (TOWNSQUARE_UPLOAD_MAX_UNZIPPED_MB)."
    )


def test_it_refuses_a_zip_with_too_many_files(settings: Any, tmp_path: Path) -> None:
    settings.TOWNSQUARE_UPLOAD_MAX_FILES = 2
    archive = zip_entries(tmp_path / "many.zip", {f"{n}.xml": b"" for n in range(3)})
    refused = refusal(archive, "stackexchange")
    assert "holds 3 files, more than the 2 allowed (TOWNSQUARE_UPLOAD_MAX_FILES)" in refused.message


def test_the_limit_also_holds_when_unpacking(
    settings: Any, shared_data: Path, tmp_path: Path
) -> None:
    archive = zip_folder(shared_data / "stackexchange_conlang_meta", tmp_path / "conlang.zip")
    item = upload(archive, "stackexchange")
    settings.TOWNSQUARE_UPLOAD_MAX_UNZIPPED_MB = 1
    assert run_upload(item.pk) == "failed"
    item.refresh_from_db()
    assert "unpacks to more than 1 MB" in item.error


def test_it_refuses_a_file_too_large(settings: Any) -> None:
    settings.TOWNSQUARE_UPLOAD_MAX_MB = 1
    refused = refusal(GENERIC / "forum-comments.csv", "csv", size=5 * 1024 * 1024)
    assert refused.message == (
        "“forum-comments.csv” is 5 MB; uploads are limited to 1 MB (TOWNSQUARE_UPLOAD_MAX_MB)."
    )


def test_it_counts_the_bytes_it_stores(settings: Any, uploads_dir: Path) -> None:
    settings.TOWNSQUARE_UPLOAD_MAX_MB = 1
    with pytest.raises(UploadRefused) as refused:
        do_upload(
            chunks=iter([b"x" * 1024 * 1024, b"x"]),
            file_name="big.csv",
            size=10,  # as a client may claim
            format="csv",
            mapping=b"{}",
            uploaded_by=None,
        )
    assert "uploads are limited to 1 MB" in refused.value.message
    assert list(uploads_dir.iterdir()) == []


def test_it_refuses_the_wrong_extension_for_the_format() -> None:
    refused = refusal(GENERIC / "forum-comments.csv", "slack")
    assert refused.field == "file"
    assert refused.message == (
        "A slack upload must be a .zip file (the workspace export .zip); "
        "“forum-comments.csv” is not."
    )


def test_it_refuses_an_unknown_format() -> None:
    refused = refusal(GENERIC / "forum-comments.csv", "myspace")
    assert (refused.field, refused.message) == (
        "format",
        "Unknown format “myspace”: pick one from the list.",
    )


def test_it_refuses_a_zip_that_is_not_one(tmp_path: Path) -> None:
    fake = tmp_path / "export.zip"
    fake.write_text("not a zip")
    assert refusal(fake, "slack").message == "“export.zip” is not a readable .zip file."
    assert refusal(fake, "github").message == "“export.zip” is not a readable .zip file."


def test_it_refuses_a_csv_without_a_mapping() -> None:
    refused = refusal(GENERIC / "forum-comments.csv", "csv")
    assert refused.field == "mapping"
    assert refused.message.startswith("A csv import needs a mapping of Townsquare's fields")


def test_it_refuses_a_mapping_that_is_not_json() -> None:
    refused = refusal(GENERIC / "forum-comments.csv", "csv", mapping=b'{"fields": ')
    assert refused.field == "mapping"
    assert refused.message == "The mapping, line 1 column 12: expected JSON (Expecting value)."


def test_it_refuses_a_mapping_for_a_format_that_takes_none(tmp_path: Path) -> None:
    archive = zip_entries(tmp_path / "export.zip", {"users.json": b"[]"})
    refused = refusal(archive, "slack", mapping=b'{"fields": {}}')
    assert (refused.field, refused.message) == (
        "mapping",
        "A slack import takes no mapping; leave it empty.",
    )


def test_it_refuses_a_source_of_another_platform(tmp_path: Path) -> None:
    Source.objects.create(name="Acme", platform="slack")
    mapping = (GENERIC / "forum-comments.mapping.json").read_bytes()
    refused = refusal(GENERIC / "forum-comments.csv", "csv", source_name="Acme", mapping=mapping)
    assert (refused.field, refused.message) == (
        "source_name",
        "The source “Acme” holds Slack data, not csv: pick another name.",
    )


def test_it_keeps_a_safe_file_name(tmp_path: Path) -> None:
    csv = tmp_path / "c.csv"
    shutil.copy(GENERIC / "forum-comments.csv", csv)
    mapping = (GENERIC / "forum-comments.mapping.json").read_bytes()
    item = upload(csv, "csv", file_name="../../my <forum> comments.csv", mapping=mapping)
    assert item.file_name == "../../my <forum> comments.csv"
    assert Path(item.path).name == "my_forum_comments.csv"
    item = upload(csv, "csv", file_name="mapping.json.csv", mapping=mapping)
    assert Path(item.path).name == "mapping.json.csv"
