"""Salt-and-pepper noise: isolated specks of a pixel or two, dark on the paper and light in the strokes (dust on
the scanner glass, a worn sensor, a photocopy of a photocopy). Tesseract reads the specks as letters and
punctuation and its layout analysis finds image regions in them: with 3 % of a page's pixels so flipped, raw
Tesseract's CER on the corpus's 24 real scans goes from 0.11 to 0.25, and with 10 % it reads nothing.

A page counts as speckled by the share of high-contrast marks of one or two pixels in squares sampled at full
resolution (a downscaled copy averages them away). The specks are then removed from the OCR image before
anything is measured on it. A 3 px median removes them best, but it also removes strokes thinner than 2 px: on
pages of 9 px letters it tripled Tesseract's CER. Strokes are roughly a seventh of the letters' measured height,
so below `MEDIAN_MIN_TEXT_PX` only the specks are replaced by their median: the marks of one or two pixels,
dark or light (a switching median filter). Raw Tesseract on the 3 % variants so filtered: 0.12 (median) and
0.14 (specks only), against 0.25; on pages of 9 px letters 0.09 (specks only) against 0.22 (median). retrodig
reads them at 0.09, and the 10 % variants at 0.19 (bench/scan_variants.py, bench/RESULTS.md).
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from ...profiles import DespeckleSettings
from .measure import marked, marks_of, text_height
from .work import Work

SAMPLE_SIDE = 256  # px: the full-resolution squares the specks are counted in
SPECK_CONTRAST = 40  # grey levels darker than the local mean; paper grain and JPEG noise stay below it
# Specks (_speck_count) per megapixel in the median square. The 59 images of the corpus and the test pages: at
# most 519 (BF-19380802_EN_01, a typescript); the same with 1 % of their pixels flipped: 3281 or more.
SPECKLED_PER_MP = 2000
MAX_SPECK_AREA = 2  # px
# A faint stroke (faded ink) falls apart into marks of 1-2 px at SPECK_CONTRAST, but holds together at this
# contrast (measure.ink_mask's); a speck stays a dot of at most MAX_FAINT_SPECK_AREA px (see _speck_count).
STROKE_CONTRAST = 15
MAX_FAINT_SPECK_AREA = 9  # px: 3 x 3
MEDIAN_MIN_TEXT_PX = 14  # letters from this height have strokes of 2 px or more, which a 3 px median keeps


def despeckle(work: Work, settings: DespeckleSettings) -> Work | None:
    if not is_speckled(work.ocr):
        return None
    # Measured through the specks (measure.text_height filters them) and kept for the later steps: specks the
    # filter leaves in clusters would be measured as small letters, and the page enlarged for them.
    height = text_height(work.ocr)
    if height is None or height >= MEDIAN_MIN_TEXT_PX:  # no letters found: the stronger filter
        ocr = cv2.medianBlur(work.ocr, 3)
    else:
        ocr = remove_specks(work.ocr)
    return replace(work, ocr=ocr, despeckled=True, text_height=height)


def is_speckled(grey: np.ndarray) -> bool:
    """Whether most of five squares spread over the page (its centre and the middles of its quarters) hold more
    than SPECKLED_PER_MP specks a megapixel: the noise covers the page, while a halftone picture or a dithered
    area (dots of a pixel or two as well) is in one place."""
    squares = _squares(grey)
    needed = len(squares) - len(squares) // 2  # squares over the bar for their median to be over it
    over = 0
    # Counted square by square, stopping once the median's side is known (after three of five on most pages).
    for done, square in enumerate(squares, 1):
        over += _speckled_square(square)
        if over >= needed or over + len(squares) - done < needed:
            break
    return over >= needed


def _speckled_square(square: np.ndarray) -> bool:
    """Whether a square holds more than SPECKLED_PER_MP specks (`_speck_count`) a megapixel. Its specks are
    some of its small marks at SPECK_CONTRAST: when those are not over the bar, the specks are not either, and
    the count of the faint strokes' marks (half of the cost) is left out."""
    labels, small = _small_marks(_darker(square))
    if _per_megapixel(np.count_nonzero(small), square) <= SPECKLED_PER_MP:
        return False
    return _per_megapixel(_speck_count(square, labels, small), square) > SPECKLED_PER_MP


def _per_megapixel(count: int, square: np.ndarray) -> float:
    return count / square.size * 1e6


def _squares(grey: np.ndarray) -> list[np.ndarray]:
    height, width = grey.shape
    if min(height, width) < 2 * SAMPLE_SIDE:
        return [grey]
    half = SAMPLE_SIDE // 2
    centres = [(height // 2, width // 2)] + [(height * y // 4, width * x // 4) for y in (1, 3) for x in (1, 3)]
    return [np.ascontiguousarray(grey[y - half:y + half, x - half:x + half]) for y, x in centres]


def _speck_count(grey: np.ndarray, labels: np.ndarray, small: np.ndarray) -> int:
    """The marks of one or two pixels SPECK_CONTRAST darker than their surroundings that are no piece of a
    fainter stroke: seen at STROKE_CONTRAST, they are still dots. The strokes of a faded page (ink keeping a
    third of its darkness) break into such marks: 9 of the corpus's 26 real scans so faded counted as speckled
    (up to 4300 a megapixel against the bar of 2000), and their specks step thinned the letters. Counted this
    way, faded pages count at most 140, clean scans 520, the same scans with 1 % of their pixels flipped 3280
    or more (the 32 accuracy pages, bench/RESULTS.md). `labels` and `small` are `_small_marks` of the marks at
    SPECK_CONTRAST."""
    _, faint_labels, faint_stats, _ = marks_of(_darker(grey, STROKE_CONTRAST))
    dots = small[labels] & (faint_stats[faint_labels, cv2.CC_STAT_AREA] <= MAX_FAINT_SPECK_AREA)
    return int(np.unique(labels[dots]).size)


def remove_specks(grey: np.ndarray) -> np.ndarray:
    """`grey` with its dark and light marks of at most MAX_SPECK_AREA px set to their 3 px median."""
    specks = _specks(_darker(grey)) | _specks(_darker(cv2.bitwise_not(grey)))
    cleaned = grey.copy()
    cleaned[specks] = cv2.medianBlur(grey, 3)[specks]
    return cleaned


def _darker(grey: np.ndarray, contrast: int = SPECK_CONTRAST) -> np.ndarray:
    """255 where a pixel is `contrast` grey levels darker than the mean around it."""
    block = max(15, max(grey.shape) // 40) | 1
    return cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, contrast)


def _specks(mask: np.ndarray) -> np.ndarray:
    """True on the pixels of the marks of `mask` that have at most MAX_SPECK_AREA pixels."""
    labels, small = _small_marks(mask)
    return marked(small, labels)


def _small_marks(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(labels, small): `marks_of`'s labels of `mask`, and for each label whether its mark has at most
    MAX_SPECK_AREA pixels (never the background's)."""
    _, labels, stats, _ = marks_of(mask)
    small = stats[:, cv2.CC_STAT_AREA] <= MAX_SPECK_AREA
    small[0] = False  # the background
    return labels, small
