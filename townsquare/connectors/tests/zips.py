"""Zip exports for the upload tests, as people make them: the folder itself, or its files."""

from __future__ import annotations

import zipfile
from pathlib import Path


def zip_folder(folder: Path, archive: Path, *, top: str | None = None) -> Path:
    """Zip every file under `folder`; inside a top folder named `top` when one is given."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                name = file.relative_to(folder).as_posix()
                out.write(file, f"{top}/{name}" if top else name)
    return archive


def zip_entries(archive: Path, entries: dict[str, bytes]) -> Path:
    """A zip holding exactly these names, however unsafe."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in entries.items():
            out.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return archive
