"""Tesseract: pages are read, and their orientation detected, by its library, loaded once per process
(`tesseract_library`); the installed languages come from the `tesseract` program.

By hand rather than through pytesseract because one reading must leave three outputs (hOCR, plain text and
the text-only PDF layer) as files in the page's work folder, under a controlled environment
(OMP_THREAD_LIMIT=1) and with failures mapped to our typed errors; pytesseract runs the program for every
call (loading the models each time) and returns outputs in memory from its own temporary files.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from ..errors import InvalidOptionError, MissingDependencyError
from ..language_codes import DEBIAN_LANGUAGE_MODELS
from .tesseract_library import engine_for, orientation_engine

OUTPUTS = ("hocr", "txt", "pdf")


def _tesseract_binary() -> str:
    found = shutil.which("tesseract")
    if not found:
        raise MissingDependencyError(
            "Tesseract is not installed (Debian: apt-get install tesseract-ocr tesseract-ocr-ron ...)"
        )
    return found


@functools.cache
def installed_languages() -> frozenset[str]:
    proc = subprocess.run([_tesseract_binary(), "--list-langs"], capture_output=True, text=True)
    lines = (proc.stdout + proc.stderr).splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and " " not in line.strip())


def missing_languages(languages: tuple[str, ...]) -> list[str]:
    """The languages of `languages` whose data is not installed here (a cluster's workers are asked too).
    "auto" is detected per page among the installed languages (pipeline.stages.language)."""
    return [lang for lang in languages if lang != "auto" and lang not in installed_languages()]


def require_languages(languages: tuple[str, ...]) -> None:
    missing = missing_languages(languages)
    unknown = [code for code in missing if code not in DEBIAN_LANGUAGE_MODELS]
    if unknown:  # no package to install: a misspelt code (zzz, ro, ukr_ua), or a model of one's own not in place
        installed = ", ".join(sorted(installed_languages() - {"osd"})) or "none"
        raise InvalidOptionError("lang", f"Tesseract has no language {', '.join(unknown)} (its codes are ISO 639-3, "
                                         f"as ron, pol, ukr; installed here: {installed})", "+".join(languages))
    if missing:
        packages = " ".join(f"tesseract-ocr-{m.replace('_', '-').lower()}" for m in missing)
        raise MissingDependencyError(
            f"Tesseract language data not installed: {', '.join(missing)} (Debian: apt-get install {packages})"
        )


def write_image(pixels, stem: Path) -> Path:
    """A grey or black-and-white numpy image as the file Tesseract reads fastest, `stem` + ".tif": an
    uncompressed TIFF. Not PNG (compressing, even at level 1, costs ~0.4 s on an A4 page at 300 dpi) and not
    PGM (Leptonica reads PGM a byte at a time: ~4 % more CPU per reading). It records no dpi: tell Tesseract."""
    import cv2

    path = stem.with_name(stem.name + ".tif")
    # Encoded in memory and written by Python, so that a failed write says why (a full disk: errno ENOSPC);
    # cv2.imwrite only returns False. The same bytes, in about the same time (an A4 page at 300 dpi: 11-12 ms
    # at best either way).
    encoded, data = cv2.imencode(".tif", pixels, [cv2.IMWRITE_TIFF_COMPRESSION, 1])
    if not encoded:
        raise ValueError(f"OpenCV could not encode a {pixels.dtype} {pixels.shape} image as TIFF")
    path.write_bytes(data)  # the encoded array itself: no copy
    return path


def run_page(image: Path, out_base: Path, languages: str, timeout: float, dpi: int | None = None,
             psm: int | None = None) -> dict[str, Path]:
    """OCR one page image once; returns the paths of the hOCR, text and text-only PDF outputs.
    `dpi` is for images that record no resolution (`write_image`'s): it overrides the file's own.
    `psm`: Tesseract's page segmentation mode (default 3, full layout analysis)."""
    return engine_for(languages).process(image, out_base, OUTPUTS, timeout, dpi, psm)


def detect_orientation(image) -> tuple[int, float] | None:
    """Tesseract's orientation and script detection (what `--psm 0` reports) on a grey or black-and-white
    numpy image: (degrees counter-clockwise to turn the page upright, confidence), or None when Tesseract
    finds too little text to tell, or lacks its `osd` data. Reads only the page's letter shapes, no words."""
    try:
        engine = orientation_engine()
    except MissingDependencyError:
        return None  # no `osd` data (tesseract-ocr-osd): the cheap cues decide alone
    return engine.detect_orientation(image)


def detect_script(image) -> tuple[str, float] | None:
    """The script the same detector sees on a grey or black-and-white numpy image ("Latin", "Fraktur",
    "Cyrillic", ...) and its confidence; None when there is too little text to tell, or no `osd` data."""
    try:
        engine = orientation_engine()
    except MissingDependencyError:
        return None
    return engine.detect_script(image)


def read_text(image: Path, languages: str, timeout: float, dpi: int | None = None) -> str:
    """Plain text of one image, nothing else (a quick reading, e.g. to find out the page's language)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="retrodig-read-") as tmp:
        files = engine_for(languages).process(image, Path(tmp) / "page", ("txt",), timeout, dpi)
        return files["txt"].read_text(encoding="utf-8", errors="replace")
