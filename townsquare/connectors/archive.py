"""An export given as a folder or as a .zip of that folder: its files read by relative name."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path, PurePosixPath
from typing import IO

from townsquare.connectors.base import ImportFormatError


class ExportArchive:
    """Opens an export's files by their path relative to its root, whether the export is a
    folder or a zip. Tools often wrap the export in one top folder inside the zip: the root is
    where `marker` (a file every export of the format has) is found."""

    def __init__(self, path: Path, *, marker: str, what: str) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        self.prefix = ""
        if path.is_file():
            try:
                self.zip = zipfile.ZipFile(path)
            except zipfile.BadZipFile:
                raise ImportFormatError(
                    path, None, f"expected {what}: a folder or a .zip file"
                ) from None
            roots = [n for n in self.zip.namelist() if PurePosixPath(n).name == marker]
            if roots:
                parent = str(PurePosixPath(min(roots, key=len)).parent)
                self.prefix = "" if parent == "." else parent + "/"

    def where(self, name: str) -> str:
        """How a file is named in messages: its path, or the zip's path and the member."""
        return f"{self.path}:{self.prefix}{name}" if self.zip else str(self.path / name)

    def exists(self, name: str) -> bool:
        if self.zip:
            return self.prefix + name in self.zip.NameToInfo
        return (self.path / name).is_file()

    def size(self, name: str) -> int:
        if self.zip:
            return self.zip.getinfo(self.prefix + name).file_size
        return (self.path / name).stat().st_size

    def open(self, name: str) -> AbstractContextManager[IO[bytes]]:
        if self.zip:
            return self.zip.open(self.prefix + name)
        return (self.path / name).open("rb")

    def read(self, name: str) -> bytes:
        if self.zip:
            return self.zip.read(self.prefix + name)
        return (self.path / name).read_bytes()

    def files(self) -> Iterator[tuple[str, int]]:
        """Every file of the export: (path relative to the root, size in bytes)."""
        if self.zip:
            for info in self.zip.infolist():
                if not info.is_dir() and info.filename.startswith(self.prefix):
                    yield info.filename[len(self.prefix) :], info.file_size
        else:
            for file in self.path.rglob("*"):
                if file.is_file():
                    yield file.relative_to(self.path).as_posix(), file.stat().st_size
