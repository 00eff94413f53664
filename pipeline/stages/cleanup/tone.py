"""Negative or positive: a scan of microfilm negatives shows light letters on dark film. Every later step (the
profile's choice, a spread's fold, orientation, deskew, crop, the photometric steps) looks for dark letters on
light paper, so a negative is made positive first; people see it positive too. The file as scanned is kept
in the archive untouched. Tesseract alone copes with negatives (it inverts text lines it cannot read); the
cleanup did not: it measured the film instead of the page (JMP020_01 as a negative in a film border: CER 1.29,
raw Tesseract 0.097, made positive 0.062; bench/scan_variants.py)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from .measure import marks_of, percentile_of_bytes, tallest_letter
from .work import to_grey

SAMPLE_SIDE = 1000  # px, longer side of the sample the two tones are measured on, at most
MIN_LETTERS = 30  # letter-sized marks (of either tone) a page must show to be judged at all
SURELY_POSITIVE = 0.8  # a scan brighter than this share all over is a positive: nothing more is measured ...
LIGHT_PAPER = 160  # ... when that bright tone is surely paper's, not a film base's (see is_negative)
FRAME_ROW_SHARE = 0.5  # rows and columns of the dark tone over this share: a frame around the film
# Grey levels between the page's darkest and brightest (1st and 99th percentiles) under which it shows no letters
# to judge (a blank back of a sheet): Otsu's threshold then splits the paper's grain into two tones of specks, and
# a blank page was taken for a negative, made dark, its grain flattened into black and white and read for minutes.
MIN_TONE_SPREAD = 24
TEXT_AREA_PERCENTILES = (10, 90)  # the text area: where the middle 80 % of the letter-sized marks lie
# On the 47 images of the dev corpus, positive and inverted inside a clear film border: the bright share of the
# text area was at least 0.61 on positives, at most 0.39 on negatives; bright marks per dark mark at most 0.73
# on positives (counters per letter), at least 1.35 on negatives (letters per counter).


def make_positive(image: np.ndarray) -> tuple[np.ndarray, bool]:
    """The scan as a positive (a new array when it was a negative; else `image` itself), and whether it was one."""
    if not is_negative(image):
        return image, False
    return cv2.bitwise_not(image), True


def is_negative(image: np.ndarray) -> bool:
    """Whether the page is a negative (light letters on dark paper). Otsu's threshold splits the page into two
    tones; the paper is the tone that fills most of the text area, and the letters are the tone with more
    letter-sized marks (the other tone's are only counters, the inside of o, e, a, which not every letter
    has). A negative is both: dark paper and bright letters. The text area leaves out what lies around the
    page (a clear film border or a dark scanner bed, which are either tone), and marks touching the image's
    edge are not counted."""
    step = math.ceil(max(image.shape[:2]) / SAMPLE_SIDE)  # a 1653 px page too: 827 px (its letters 12 px)
    # Every n-th pixel (tones need no resampling); OpenCV's nearest-neighbour copy picks them ~10x faster than
    # numpy's strided copy of a colour scan.
    sample = to_grey(cv2.resize(image, None, fx=1 / step, fy=1 / step, interpolation=cv2.INTER_NEAREST))
    _, bright = cv2.threshold(sample, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    light = percentile_of_bytes(sample[bright > 0], 50) >= LIGHT_PAPER if bright.any() else False
    if light and np.count_nonzero(bright) > SURELY_POSITIVE * bright.size:
        return False  # most pages (a negative would be a small frame amid clear film)
    if not light:
        # The bright tone is not clearly paper's: it may be a negative's film base, set apart from the darker
        # frame around it. A film of an aged, greyish page (base 50, letters 190, frame 15) was so taken for a
        # positive and read as one, halos and all. Its tones are split again inside the frame.
        sample = _inside_dark_frame(sample, bright)
        _, bright = cv2.threshold(sample, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        if np.count_nonzero(bright) > SURELY_POSITIVE * bright.size:
            return False
    if percentile_of_bytes(sample, 99) - percentile_of_bytes(sample, 1) < MIN_TONE_SPREAD:
        return False  # no letters, only grain
    bright_marks, dark_marks = _letter_marks(bright), _letter_marks(cv2.bitwise_not(bright))
    if len(bright_marks) <= len(dark_marks) or len(bright_marks) + len(dark_marks) < MIN_LETTERS:
        return False  # the letters are the dark tone
    marks = np.vstack([bright_marks, dark_marks])
    (left, top), (right, bottom) = (np.percentile(marks, q, axis=0).astype(int) for q in TEXT_AREA_PERCENTILES)
    text_area = bright[top:bottom + 1, left:right + 1]
    return np.count_nonzero(text_area) < 0.5 * text_area.size


def _inside_dark_frame(sample: np.ndarray, bright: np.ndarray) -> np.ndarray:
    """`sample` without the rows and columns along its edges that are mostly of the dark tone (`bright` 0): a
    film's frame, a scanner bed. The whole sample when nothing is left of it so."""
    rows, columns = (bright > 0).mean(axis=1), (bright > 0).mean(axis=0)
    inner_rows, inner_columns = np.flatnonzero(rows > FRAME_ROW_SHARE), np.flatnonzero(columns > FRAME_ROW_SHARE)
    if len(inner_rows) < 0.25 * len(rows) or len(inner_columns) < 0.25 * len(columns):
        return sample
    return sample[inner_rows[0]:inner_rows[-1] + 1, inner_columns[0]:inner_columns[-1] + 1]


def _letter_marks(mask: np.ndarray) -> np.ndarray:
    """Centres (x, y) of the marks of `mask` (255) that are letter-sized and clear of the image's edge."""
    _, _, stats, centres = marks_of(mask)
    x, y, w, h, area = (stats[1:, i] for i in range(5))
    inside = (x > 0) & (y > 0) & (x + w < mask.shape[1]) & (y + h < mask.shape[0])
    return centres[1:][inside & (h >= 3) & (h <= tallest_letter(mask.shape)) & (area >= 6)]
