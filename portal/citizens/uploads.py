"""Files citizens attach: recognised by their content (never by name or declared type), opened once to make
sure they are what they claim, and stored under a generated name in `<archive>/requests/<id>/`."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# Magic bytes of the accepted types, and the extension their stored copy gets.
ACCEPTED = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
CHUNK = 1 << 16
MAX_IMAGE_PIXELS = 100_000_000  # a phone's photo of a document is 12-50 MP; a header claiming more is not kept


class UploadRefused(Exception):
    """A file that is not kept; `reason` is a message id: too-large, type, damaged, too-many."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class StoredFile:
    stored: str
    media_type: str
    size: int
    sha256: str


def sniff(head: bytes) -> tuple[str, str] | None:
    for magic, media_type, extension in ACCEPTED:
        if head.startswith(magic):
            return media_type, extension
    return None


def store_upload(source: BinaryIO, folder: Path, stem: str, max_bytes: int) -> StoredFile:
    """Copy an upload into `folder` as `<stem>.<ext>`, refusing it (and leaving nothing) if it is too large,
    of another type, or damaged."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{stem}.partial"
    digest, size = hashlib.sha256(), 0
    try:
        with partial.open("wb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRefused("too-large")
                digest.update(chunk)
                out.write(chunk)
        with partial.open("rb") as check:
            kind = sniff(check.read(16))
        if kind is None:
            raise UploadRefused("type")
        if not _opens(partial, kind[0]):
            raise UploadRefused("damaged")
        final = folder / f"{stem}.{kind[1]}"
        os.replace(partial, final)
        final.chmod(0o440)
        return StoredFile(final.name, kind[0], size, digest.hexdigest())
    finally:
        partial.unlink(missing_ok=True)


def _opens(path: Path, media_type: str) -> bool:
    if media_type == "application/pdf":
        import pikepdf

        try:
            with pikepdf.open(path) as pdf:
                return len(pdf.pages) > 0
        except (pikepdf.PdfError, pikepdf.PasswordError, ValueError):
            return False
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            # Pillow's own bomb check is off in this process (the pipeline bounds scans itself), so the size
            # is checked here, before any pixel is decoded.
            if image.width * image.height > MAX_IMAGE_PIXELS:
                return False
            image.draft("RGB", (image.width // 8, image.height // 8))  # a JPEG decodes at 1/8: the whole stream
            image.load()  # all of the data, decoded: `verify` alone passes a file cut short
        return True
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False


def remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
