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


COLOUR_SAMPLE_SIDE = 800  # px: every n-th pixel of the scan, its colours counted (no averaging needed)
INK_DARKNESS = 0.7  # of the paper's brightness: darker is ink (of any colour)
STRONG_COLOUR, NO_COLOUR = 80, 40  # a pixel's chroma (largest channel minus smallest): a stamp's, black ink's
COLOUR_MARKS_SHARE = 0.03  # of the ink, at least, strongly coloured ...
BLACK_TEXT_SHARE = 0.5  # ... while this share of it, at least, is black or grey: black text under coloured marks


def ocr_grey(image: np.ndarray) -> tuple[np.ndarray, bool]:
    """The grey image the steps work on and Tesseract reads, and whether it leaves out coloured marks.

    Municipal records are stamped and signed in colour over their black typescript. In grey (luminance) a red
    stamp is as dark as the letters under it, and Tesseract read the stamp into them: a typescript stamped in red
    and signed in blue read worse than raw Tesseract (CER 0.25, raw 0.21, unstamped 0.02). On a page whose ink
    is mostly black or grey and partly strongly coloured, each pixel is given its brightest channel instead: black
    and grey ink stay as dark as they are, paper as light, and a red, blue or violet mark nearly as light as the
    paper; a letter under a stamp stays darker than the stamp around it. A page written in coloured ink (blue
    ballpoint, a violet ribbon) is mostly coloured ink: it keeps its luminance. The access image keeps the colours."""
    if image.ndim != 3:
        return image.copy(), False
    step = max(1, max(image.shape[:2]) // COLOUR_SAMPLE_SIDE)
    # Every n-th pixel by OpenCV's nearest-neighbour resize: NumPy's strided copy of a colour scan is 10x slower.
    sample = cv2.resize(image, None, fx=1 / step, fy=1 / step, interpolation=cv2.INTER_NEAREST) if step > 1 else image
    chroma = cv2.subtract(_brightest_channel(sample), _darkest_channel(sample))
    luminance = cv2.cvtColor(sample, cv2.COLOR_RGB2GRAY)
    ink = luminance < INK_DARKNESS * _paper_level(luminance)
    inked = np.count_nonzero(ink)
    if inked < 0.002 * ink.size:
        return to_grey(image), False
    coloured = np.count_nonzero(ink & (chroma > STRONG_COLOUR))
    black = np.count_nonzero(ink & (chroma < NO_COLOUR))
    if coloured < COLOUR_MARKS_SHARE * inked or black < BLACK_TEXT_SHARE * inked:
        return to_grey(image), False
    return _brightest_channel(image), True


def _brightest_channel(image: np.ndarray) -> np.ndarray:
    red, green, blue = cv2.split(image)
    return cv2.max(cv2.max(red, green), blue)


def _darkest_channel(image: np.ndarray) -> np.ndarray:
    red, green, blue = cv2.split(image)
    return cv2.min(cv2.min(red, green), blue)


def _paper_level(grey: np.ndarray) -> float:
    """The 90th percentile of `grey`'s values, from their histogram (np.percentile sorts them: 20 ms)."""
    counts = np.cumsum(cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel())
    return float(np.searchsorted(counts, 0.9 * counts[-1]))
