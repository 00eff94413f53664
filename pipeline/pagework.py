"""The work done for one page, in a worker process: decode, clean, OCR. Returns a small, picklable result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .model import PageText
from .profiles import CleanProfile
from .stages.clean import clean_page
from .stages.load import load_page
from .stages.ocr import recognize


@dataclass(frozen=True)
class PageTask:
    source: Path  # the master copy in the archive (never the user's original)
    format: str
    index: int  # 0-based page within the source file
    number: int  # 1-based page number within the document
    work_dir: Path  # where this page's intermediate files go
    languages: str
    profile: CleanProfile
    max_pixels: int
    default_dpi: int
    jpeg_quality: int
    tesseract_timeout: float
    debug_dir: Path | None = None


@dataclass(frozen=True)
class PageResult:
    number: int
    access_image: Path
    hocr: Path
    text_pdf: Path
    text: PageText
    skew_angle: float
    steps: tuple[str, ...]


def process_page(task: PageTask) -> PageResult:
    task.work_dir.mkdir(parents=True, exist_ok=True)
    loaded = load_page(task.source, task.format, task.index, task.max_pixels, task.default_dpi)
    cleaned = clean_page(loaded.pixels, loaded.dpi, task.profile, debug_dir=task.debug_dir)
    stem = task.work_dir / f"{task.number:04d}"
    access = write_access_image(cleaned.access, loaded.dpi, loaded.bilevel, stem, task.jpeg_quality)
    ocr_image = stem.with_name(stem.name + "_ocr.png")
    Image.fromarray(cleaned.ocr).save(ocr_image, dpi=(loaded.dpi, loaded.dpi), compress_level=1)
    result = recognize(ocr_image, stem, task.languages, task.number, loaded.dpi, task.tesseract_timeout)
    ocr_image.unlink()
    return PageResult(
        number=task.number,
        access_image=access,
        hocr=result.hocr,
        text_pdf=result.text_pdf,
        text=result.page,
        skew_angle=cleaned.skew_angle,
        steps=cleaned.steps,
    )


def write_access_image(pixels: np.ndarray, dpi: int, bilevel: bool, stem: Path, quality: int) -> Path:
    """The copy people look at: lossless 1-bit for black-and-white scans, JPEG for grey and colour."""
    if bilevel:
        path = stem.with_name(stem.name + "_access.png")
        # Deskewing interpolates grey edges: threshold them back rather than let Pillow dither.
        black_white = np.where(pixels >= 128, 255, 0).astype(np.uint8)
        Image.fromarray(black_white).convert("1", dither=Image.Dither.NONE).save(path, dpi=(dpi, dpi), optimize=True)
    else:
        path = stem.with_name(stem.name + "_access.jpg")
        Image.fromarray(pixels).save(path, dpi=(dpi, dpi), quality=quality, optimize=True)
    return path
