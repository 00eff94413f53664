"""Page images for the browser: scaled JPEG copies made on demand from the document's PDF/A and cached in
`<archive>/portal/cache/`. The viewer never gets the master (a 9000×9000 scan would stall an office PC)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

from pipeline.archive import Archive
from pipeline.errors import ArchiveError, MissingDependencyError

SIZES = {"view": 1600, "thumb": 240}  # longest side in pixels
JPEG_QUALITY = {"view": 80, "thumb": 70}


class PageImages:
    def __init__(self, archive: Archive):
        self.archive = archive
        self.cache = archive.root / "portal" / "cache"

    def path(self, doc_id: str, number: int, size: str) -> Path:
        """The cached image of page `number` at `size` ('view' or 'thumb'), made first if missing or stale.
        Callers have checked that the document and page exist."""
        pdf = self.archive.document_dir(doc_id) / "document.pdf"
        target = self.cache / doc_id / f"{number:04d}-{size}.jpg"
        if target.is_file() and target.stat().st_mtime_ns >= pdf.stat().st_mtime_ns:
            return target
        if size == "thumb":
            self._thumbnail(self.path(doc_id, number, "view"), target)
        else:
            self._render(pdf, number, target)
        return target

    def _render(self, pdf: Path, number: int, target: Path) -> None:
        program = shutil.which("pdftoppm")
        if not program:
            raise MissingDependencyError("pdftoppm is missing (Debian: apt-get install poppler-utils)")
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".render-") as tmp:
            prefix = Path(tmp) / "page"
            try:
                subprocess.run(
                    [program, "-f", str(number), "-l", str(number), "-singlefile", "-scale-to", str(SIZES["view"]),
                     "-jpeg", "-jpegopt", f"quality={JPEG_QUALITY['view']},optimize=y", str(pdf), str(prefix)],
                    check=True, capture_output=True, timeout=120,
                )
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                raise ArchiveError(f"could not render page {number} of {pdf}: {exc}") from exc
            os.replace(prefix.with_suffix(".jpg"), target)

    def _thumbnail(self, view: Path, target: Path) -> None:
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        os.close(handle)
        partial = Path(name)
        with Image.open(view) as image:
            image.thumbnail((SIZES["thumb"], SIZES["thumb"]))
            image.save(partial, "JPEG", quality=JPEG_QUALITY["thumb"], optimize=True)
        os.replace(partial, target)
