"""The page as it passes between cleanup steps."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Work:
    """The page between steps. Steps return a new Work with new arrays; they never write into the old ones.

    `access` is the scan, only turned by quarter turns: straightening and cropping it is left to whoever shows it
    (`skew_angle`, `crop_box`, `paper`: see CleanedPage.page_image). `ocr` is turned, straightened and cropped;
    it lies pixel for pixel on the access image so shown, except that it may be resampled by `ocr_scale` (a
    low-resolution scan is enlarged for Tesseract, a huge one reduced)."""

    access: np.ndarray
    ocr: np.ndarray
    dpi_scale: float  # the OCR image's resolution / 300: settings given "at 300 dpi" are multiplied by it
    skew_angle: float = 0.0
    paper: tuple[int, int, int] | int = 255  # the access image's paper colour, once straightening measured it
    crop_box: tuple[int, int, int, int] | None = None
    turn: int = 0  # degrees counter-clockwise the page was turned to stand upright
    ocr_scale: float = 1.0  # ocr pixels per access pixel
    text_height: int | None = None  # most common letter height in the OCR image, px
    keep_grey: bool | None = None  # the photometric verdict (soft strokes: no threshold); None until measured
    holes: int = 0  # punched holes filled in the OCR image
    despeckled: bool = False  # salt-and-pepper specks were removed from the OCR image (specks.py)
    # The scan's grey as `reduce_large_page` reduced it, before any other change, and the turn it stood at then:
    # the image a page read as scanned gets at that scale and turn (cleanup._as_scanned), not resampled twice.
    reduced_scan: tuple[int, np.ndarray] | None = None
    # The scanner bed `crop_borders` whitened around a sheet it cut out, on a small copy of the OCR image (255 bed,
    # 0 sheet): not paper, so the flattening does not take its white for the paper's brightness.
    bed: np.ndarray | None = None
    colour_marks: bool = False  # coloured stamps and signatures over black text are left out of the OCR image


def to_grey(image: np.ndarray) -> np.ndarray:
    """A grey copy (the input is never changed: callers keep their pixels)."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image.copy()
