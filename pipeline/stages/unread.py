"""Did Tesseract leave text unread? The share of a page's letters that no recognized word covers.

Tesseract's page layout analysis (`--psm 3`) sometimes decides that whole paragraphs of a typescript are
a picture or noise and skips them: the reading is then missing text, not misspelt, and its word
confidences look fine. Measured on the development corpus: a 72-dpi-tagged photo read raw lost 37 % of its
letters this way (CER 0.38), the same page read as one block of text (`--psm 6`) lost none (CER 0.03).

The letters are counted on the OCR image itself: marks of letter size (around the page's typical letter
height, found as in cleanup) whose centre lies inside no word box of the reading count as unread.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ..model import Word
from .cleanup.measure import downscale, ink_mask, ink_weighted_height, marks_of

ANALYSIS_SIDE = 1400  # px, longer side: letters of a 300 dpi A4 page stay ~10 px high
MIN_LETTERS = 200  # fewer letter-sized marks: too little text to judge a reading by
LETTER_RANGE = (0.6, 1.6)  # times the typical letter height
BOX_MARGIN = 0.3  # word boxes are widened by this share of the letter height (touching marks, accents)


def unread_share(ocr_image: np.ndarray, words: Sequence[Word]) -> float | None:
    """Share (0..1) of the page's letter-sized marks outside every word box (boxes in `ocr_image` pixels);
    None when the page has too few letters to tell."""
    small, factor = downscale(ocr_image, ANALYSIS_SIDE)
    centres, height = _letter_centres(small)
    if len(centres) < MIN_LETTERS:
        return None
    covered = np.zeros(small.shape, dtype=np.uint8)
    grow = BOX_MARGIN * height
    for word in words:
        left, top, right, bottom = (v / factor for v in word.bbox)
        covered[max(0, int(top - grow)):int(bottom + grow) + 1, max(0, int(left - grow)):int(right + grow) + 1] = 1
    xs, ys = centres[:, 0].astype(np.int32), centres[:, 1].astype(np.int32)
    return float(1.0 - covered[ys, xs].mean())


def _letter_centres(small: np.ndarray) -> tuple[np.ndarray, float]:
    """Centres (x, y) of letter-sized marks and the typical letter height (ink-weighted median), in px."""
    _, _, stats, centroids = marks_of(ink_mask(small))
    heights, widths = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
    plausible = (heights >= 4) & (heights <= small.shape[0] / 20) & (widths <= 4 * heights)
    if plausible.sum() < MIN_LETTERS:
        return np.empty((0, 2)), 0.0
    height = float(ink_weighted_height(heights[plausible], areas[plausible], 0.5))
    low, high = LETTER_RANGE
    letters = plausible & (heights >= low * height) & (heights <= high * height)
    return centroids[1:][letters], height
