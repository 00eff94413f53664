"""Negative or positive: a scan of microfilm negatives shows light letters on dark film. Every later step (the
profile's choice, a spread's fold, orientation, deskew, crop, the photometric steps) looks for dark letters on
light paper, so a negative is made positive first; people see it positive too. The file as scanned is kept
in the archive untouched. Tesseract alone copes with negatives (it inverts text lines it cannot read); the
cleanup did not: it measured the film instead of the page (JMP020_01 as a negative: CER 0.228, raw Tesseract
0.069, made positive 0.031; bench/scan_variants.py)."""

from __future__ import annotations

import cv2
import numpy as np

from .work import to_grey

SAMPLE_SIDE = 1000  # px, longer side of the sample the two tones are measured on
MAX_BRIGHT_SHARE = 0.4  # more of the scan bright than this: a positive (the dev corpus: 0.8-0.97 bright; its
# pages inverted: 0.03-0.2, with a bright film border or scanner bed around a negative adding to that)
MIN_LETTERS = 30  # bright letter-sized marks a negative page shows at least


def make_positive(image: np.ndarray) -> tuple[np.ndarray, bool]:
    """The scan as a positive (a new array when it was a negative; else `image` itself), and whether it was one."""
    if not is_negative(image):
        return image, False
    return cv2.bitwise_not(image), True


def is_negative(image: np.ndarray) -> bool:
    """Whether the page is a negative (light letters on dark paper). Otsu's threshold splits the page into two
    tones. Paper is most of a page: on a negative the bright tone is the minority. A small sheet on a dark
    scanner bed is a bright minority too; what tells the two apart is which tone the letters are: the other
    tone's letter-sized marks are only the letters' counters (the inside of o, e, a), which not every letter
    has (on the dev corpus 1.3-1.6 letters per counter). Marks touching the image's edge (a film border, the
    bed, paper running off the scan) are not counted."""
    step = max(1, max(image.shape[:2]) // SAMPLE_SIDE)
    sample = to_grey(np.ascontiguousarray(image[::step, ::step]))  # every n-th pixel: tones need no resampling
    _, bright = cv2.threshold(sample, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if np.count_nonzero(bright) > MAX_BRIGHT_SHARE * bright.size:
        return False  # most pages
    bright_letters = _letter_marks(bright)
    return bright_letters >= MIN_LETTERS and bright_letters > _letter_marks(cv2.bitwise_not(bright))


def _letter_marks(mask: np.ndarray) -> int:
    """How many marks of `mask` (255) are letter-sized and clear of the image's edge."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    x, y, w, h, area = (stats[1:, i] for i in range(5))
    inside = (x > 0) & (y > 0) & (x + w < mask.shape[1]) & (y + h < mask.shape[0])
    return int(np.count_nonzero(inside & (h <= max(mask.shape) / 25) & (area >= 3)))
