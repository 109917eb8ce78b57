"""Exports uploaded through the web pages: what each format takes, storing the file, unpacking
a .zip safely, and running the import in the background (the task is in connectors/tasks.py).

An upload is kept on disk under MEDIA_ROOT (never served) whatever happens to its import, so a
failed one can be retried once the cause is fixed.
"""

from __future__ import annotations

import re
import secrets
import shutil
import stat
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import SuspiciousFileOperation
from django.utils.text import get_valid_filename

from townsquare.community.models import Source
from townsquare.connectors.base import ImportFormatError
from townsquare.connectors.models import ImportRun, RunStatus, Upload, UploadStatus
from townsquare.connectors.registry import UnknownFormat, get_importer_class

MB = 1024 * 1024
# Files macOS adds to every zip it makes: not part of the export.
ZIP_LITTER = "__MACOSX"


@dataclass(frozen=True)
class UploadFormat:
    """What the upload form takes for one import format."""

    # File name endings accepted, lower case.
    extensions: tuple[str, ...]
    # Which file or zip it expects, shown in the form.
    hint: str
    # The importer reads folders but not zips: a .zip is unpacked and its folder imported.
    unzip: bool = False
    # The generic importers need to be told which column holds which field.
    needs_mapping: bool = False


UPLOAD_FORMATS: dict[str, UploadFormat] = {
    "slack": UploadFormat((".zip",), "the workspace export .zip"),
    "stackexchange": UploadFormat(
        (".zip",),
        "one site's unpacked data dump folder (Posts.xml, Users.xml…) as a .zip",
        unzip=True,
    ),
    "github": UploadFormat(
        (".zip", ".json"), "a .zip of the issues/ and pulls/ folders, or one JSON array", unzip=True
    ),
    "mastodon": UploadFormat((".zip",), "the account archive .zip (outbox.json, actor.json)"),
    "mbox": UploadFormat(
        (".mbox", ".gz", ".txt", ".zip"),
        "an mbox file (.mbox, .gz), or a .zip of several",
        unzip=True,
    ),
    "discord": UploadFormat(
        (".json", ".zip"), "a DiscordChatExporter .json, or a .zip of them", unzip=True
    ),
    "telegram": UploadFormat(
        (".json", ".zip"), "Telegram Desktop's result.json, or a .zip holding it", unzip=True
    ),
    "csv": UploadFormat(
        (".csv", ".tsv"), "a .csv or .tsv file, with a mapping", needs_mapping=True
    ),
    "jsonl": UploadFormat(
        (".jsonl", ".ndjson", ".json"), "a JSON Lines file, with a mapping", needs_mapping=True
    ),
}


class UploadRefused(Exception):
    """An upload we will not import, with the form field it concerns and why, in words."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def max_upload_bytes() -> int:
    return int(settings.TOWNSQUARE_UPLOAD_MAX_MB) * MB


def check_file_name(*, format: str, file_name: str, size: int) -> None:
    """Refuse at once an upload whose format, extension or size is wrong."""
    spec = UPLOAD_FORMATS.get(format)
    if spec is None:
        raise UploadRefused("format", f"Unknown format “{format}”: pick one from the list.")
    if not file_name.lower().endswith(spec.extensions):
        raise UploadRefused(
            "file",
            f"A {format} upload must be a {' or '.join(spec.extensions)} file "
            f"({spec.hint}); “{file_name}” is not.",
        )
    if size > max_upload_bytes():
        raise _too_large(file_name, size)


def _too_large(file_name: str, size: int) -> UploadRefused:
    return UploadRefused(
        "file",
        f"“{file_name}” is {size / MB:,.0f} MB; uploads are limited to "
        f"{settings.TOWNSQUARE_UPLOAD_MAX_MB:,} MB (TOWNSQUARE_UPLOAD_MAX_MB).",
    )


def do_upload(
    *,
    chunks: Iterable[bytes],
    file_name: str,
    size: int,
    format: str,
    source_name: str = "",
    mapping: bytes | None = None,
    uploaded_by: User | None,
) -> Upload:
    """Store an uploaded export, check it, and queue its import. Raises UploadRefused, naming
    the problem, for an export that cannot be imported; nothing is kept then."""
    check_file_name(format=format, file_name=file_name, size=size)
    spec = UPLOAD_FORMATS[format]
    if spec.needs_mapping and not mapping:
        raise UploadRefused(
            "mapping",
            f"A {format} import needs a mapping of Townsquare's fields to the file's columns: "
            "upload a mapping file or paste its JSON (see docs/generic-import.md).",
        )
    if mapping and not spec.needs_mapping:
        raise UploadRefused("mapping", f"A {format} import takes no mapping; leave it empty.")
    folder = Path(settings.MEDIA_ROOT) / secrets.token_hex(8)
    folder.mkdir(parents=True)
    try:
        path = folder / _safe_name(file_name, spec)
        written = 0
        with path.open("xb") as out:
            for chunk in chunks:  # the file never sits whole in memory
                written += len(chunk)
                if written > max_upload_bytes():
                    raise _too_large(file_name, written)
                out.write(chunk)
        options: dict[str, str] = {}
        if mapping:
            (folder / "mapping.json").write_bytes(mapping)
            options["mapping"] = str(folder / "mapping.json")
        _check_export(path, format=format, source_name=source_name, options=options)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    upload = Upload.objects.create(
        path=str(path),
        file_name=file_name[:255],
        size=path.stat().st_size,
        format=format,
        source_name=source_name,
        options=options,
        uploaded_by=uploaded_by,
    )
    _enqueue(upload)
    return upload


def do_retry_upload(*, upload: Upload) -> bool:
    """Queue a failed upload's import again, from the kept file. False when it is not failed
    (someone else retried it first, or it is still running)."""
    claimed = Upload.objects.filter(pk=upload.pk, status=UploadStatus.FAILED).update(
        status=UploadStatus.QUEUED, error=""
    )
    if claimed:
        upload.refresh_from_db()
        _enqueue(upload)
    return bool(claimed)


def _enqueue(upload: Upload) -> None:
    from townsquare.connectors.tasks import import_upload_task

    try:
        import_upload_task.enqueue(upload.pk)
    except Exception as e:  # any backend error (Redis down): the file is kept, retry later
        _finish(upload, UploadStatus.FAILED, f"The import could not be queued ({e}); retry it.")


def run_upload(upload_id: int) -> str:
    """Import a queued upload: unpack it if its importer reads no zips, run do_import (which
    queues enrichment and identity resolution after a success, as after a CLI import), and
    record how it ended. Returns the upload's status."""
    from townsquare.connectors.services import ImportConflict, do_import

    # Claimed with a conditional update: two workers never import the same upload.
    if not Upload.objects.filter(pk=upload_id, status=UploadStatus.QUEUED).update(
        status=UploadStatus.RUNNING, run=None, error=""
    ):
        return str(Upload.objects.filter(pk=upload_id).values_list("status", flat=True).first())
    upload = Upload.objects.get(pk=upload_id)
    try:
        path = _export_path(upload)
        run = do_import(
            format=upload.format,
            path=path,
            source_name=upload.source_name or None,
            options=upload.options,
            # do_import has just created the run: linked now, its progress shows while it runs.
            on_start=lambda _importer: _link_run(upload, path),
        )
    except (ImportFormatError, ImportConflict, UnknownFormat, UploadRefused) as e:
        return _finish(upload, UploadStatus.FAILED, _readable(str(e), upload))
    except BaseException as e:  # a crash or a stopped worker: say so, keep the file, re-raise
        error = f"The import stopped ({type(e).__name__}: {e}); retry it to complete it."
        _finish(upload, UploadStatus.FAILED, _readable(error, upload))
        raise
    upload.run = run
    return _finish(upload, UploadStatus.SUCCEEDED, "")


def mark_interrupted_uploads() -> int:
    """Fail the uploads whose import died with its worker (killed, machine restarted), so
    they can be retried: a worker that dies cannot say so itself."""
    from townsquare.connectors.services import mark_interrupted_runs

    mark_interrupted_runs()
    return Upload.objects.filter(
        status=UploadStatus.RUNNING, run__status=RunStatus.INTERRUPTED
    ).update(
        status=UploadStatus.FAILED,
        error="The import stopped before it finished (its worker ended); retry it to complete it.",
    )


def _finish(upload: Upload, status: UploadStatus, error: str) -> str:
    upload.status = status
    upload.error = error
    upload.save(update_fields=["status", "error", "run"])
    return str(status)


def _link_run(upload: Upload, path: Path) -> None:
    """Link the run do_import made for this upload: the only one with the upload's path."""
    upload.run = ImportRun.objects.filter(path=str(path.resolve())).order_by("-pk").first()
    Upload.objects.filter(pk=upload.pk).update(run=upload.run)


def _readable(message: str, upload: Upload) -> str:
    """An error without the upload folder's path: people know their file by its own name, and
    a file of a zip as "zip:member", as the importers name the files of a zip they read."""
    stored = Path(upload.path)
    if _unzips(upload.format, stored):
        message = message.replace(f"{_unpack_folder(stored)}/", f"{stored.name}:")
    return message.replace(f"{stored.parent}/", "")


def _safe_name(file_name: str, spec: UploadFormat) -> str:
    try:
        name = get_valid_filename(Path(file_name.replace("\\", "/")).name)
    except SuspiciousFileOperation:
        name = ""
    if len(name) > 150:
        ending = next(e for e in spec.extensions if name.lower().endswith(e))
        name = name[: 150 - len(ending)] + ending
    # "mapping.json" is where the mapping goes.
    return name if name and name != "mapping.json" else "export" + spec.extensions[0]


def _check_export(path: Path, *, format: str, source_name: str, options: Mapping[str, str]) -> None:
    """What can be checked before the import: the zip's table of contents, the mapping and
    options (as the importer reads them), and the source's platform."""
    if _unzips(format, path):
        _zip_members(path)
    elif path.name.lower().endswith(".zip") and not zipfile.is_zipfile(path):
        raise UploadRefused("file", f"“{path.name}” is not a readable .zip file.")
    importer_class = get_importer_class(format)
    try:
        importer_class(path, options)
    except ImportFormatError as e:
        field = "mapping" if e.path == options.get("mapping") else "file"
        what = "The mapping" if field == "mapping" else f"“{path.name}”"
        where = f", {e.location}" if e.location else ""
        raise UploadRefused(field, f"{what}{where}: {e.expected}.") from None
    platform = importer_class.platform
    other = Source.objects.filter(name=source_name).exclude(platform=platform).first()
    if source_name and other is not None:
        raise UploadRefused(
            "source_name",
            f"The source “{other.name}” holds {other.get_platform_display()} data, "
            f"not {format}: pick another name.",
        )


def _export_path(upload: Upload) -> Path:
    """The file or folder to import: the stored file, or the folder its zip unpacks to."""
    stored = Path(upload.path)
    return extract_zip(stored, _unpack_folder(stored)) if _unzips(upload.format, stored) else stored


def _unzips(format: str, path: Path) -> bool:
    return UPLOAD_FORMATS[format].unzip and path.name.lower().endswith(".zip")


def _unpack_folder(stored: Path) -> Path:
    # Named after the zip, as Stack Exchange names a source after its folder.
    return stored.with_name(stored.name[: -len(".zip")] or "export")


def _zip_members(path: Path) -> list[tuple[zipfile.ZipInfo, tuple[str, ...]]]:
    """Every member of the zip with its path parts, once the zip is known safe to unpack:
    no absolute path, no way out of its folder, no link, within the size and count limits."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise UploadRefused("file", f"“{path.name}” is not a readable .zip file.") from None
    max_files = int(settings.TOWNSQUARE_UPLOAD_MAX_FILES)
    if len(infos) > max_files:
        raise UploadRefused(
            "file",
            f"“{path.name}” holds {len(infos):,} files, more than the {max_files:,} allowed "
            "(TOWNSQUARE_UPLOAD_MAX_FILES).",
        )
    if sum(info.file_size for info in infos) > _max_unzipped_bytes():
        raise _too_big(path.name)
    members = []
    for info in infos:
        parts = _member_parts(path.name, info)
        if parts and parts[0] != ZIP_LITTER:
            members.append((info, parts))
    return members


def _member_parts(zip_name: str, info: zipfile.ZipInfo) -> tuple[str, ...]:
    name = info.filename.replace("\\", "/")
    refused = f"“{zip_name}” cannot be unpacked safely: “{info.filename}”"
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        raise UploadRefused("file", f"{refused} is an absolute path.")
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if ".." in parts:
        raise UploadRefused("file", f"{refused} points outside the zip's folder.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UploadRefused("file", f"{refused} is a symbolic link.")
    if "\0" in name:
        raise UploadRefused("file", f"{refused} has a NUL character in its name.")
    return parts


def _max_unzipped_bytes() -> int:
    return int(settings.TOWNSQUARE_UPLOAD_MAX_UNZIPPED_MB) * MB


def _too_big(zip_name: str) -> UploadRefused:
    return UploadRefused(
        "file",
        f"“{zip_name}” unpacks to more than {settings.TOWNSQUARE_UPLOAD_MAX_UNZIPPED_MB:,} MB "
        "(TOWNSQUARE_UPLOAD_MAX_UNZIPPED_MB).",
    )


def extract_zip(path: Path, into: Path) -> Path:
    """Unpack a zip into a new folder and return the export's root: the folder itself, or the
    one folder it holds when the zip wraps its files in one. Raises UploadRefused for a zip
    that is unsafe to unpack. The size limit is checked against the headers first, then
    counted again as bytes are written, so it holds whatever the headers say."""
    members = _zip_members(path)
    if into.exists():
        shutil.rmtree(into)  # a retry unpacks the kept zip again
    into.mkdir()
    budget = _max_unzipped_bytes()
    root = into.resolve()
    with zipfile.ZipFile(path) as archive:
        for info, parts in members:
            target = into.joinpath(*parts)
            if not target.resolve().is_relative_to(root):  # belt and braces: checked above
                raise UploadRefused("file", f"“{info.filename}” points outside the zip's folder.")
            try:
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as source, target.open("xb") as out:
                    while chunk := source.read(MB):
                        budget -= len(chunk)
                        if budget < 0:
                            raise _too_big(path.name)
                        out.write(chunk)
            except (OSError, zipfile.BadZipFile) as e:
                raise UploadRefused(
                    "file", f"“{path.name}”: cannot unpack “{info.filename}” ({e})."
                ) from None
    return _single_top_folder(into)


def _single_top_folder(folder: Path) -> Path:
    entries = [e for e in folder.iterdir() if e.name != ZIP_LITTER]
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return folder
