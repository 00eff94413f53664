"""Did Tesseract leave text unread? The share of a page's letters that no recognized word covers, and the places
where writing was left unread.

Tesseract's page layout analysis (`--psm 3`) sometimes decides that whole paragraphs of a typescript are
a picture or noise and skips them: the reading is then missing text, not misspelt, and its word
confidences look fine. Measured on the development corpus: a 72-dpi-tagged photo read raw lost 37 % of its
letters this way (CER 0.38), the same page read as one block of text (`--psm 6`) lost none (CER 0.03).

The letters are counted on the OCR image itself: marks of letter size (around the page's typical letter
height, found as in cleanup) whose centre lies inside no word box of the reading count as unread.

Handwriting is often not read at all: Tesseract's layout analysis takes a signature or a note in the margin
for a picture and leaves it out, so no low word confidence tells of it (stages.quality.unsure_lines catches
what it did read). `writing_left_unread` finds such places: ink outside every word box that looks like
writing. On the 32 pages of the accuracy corpus and 5 other scans read with the handwritten-mixed profile it
found the signatures, handwritten notes and stamps Tesseract skipped, and printed lines it skipped (on a curved
book page, among show-through); what it must not take for writing was measured there too (see the constants,
and bench/RESULTS.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ..model import PixelBox, Word
from .cleanup.measure import downscale, ink_mask, ink_weighted_height, marked, marks_of, remembered

ANALYSIS_SIDE = 1400  # px, longer side: letters of a 300 dpi A4 page stay ~10 px high
MIN_LETTERS = 200  # fewer letter-sized marks: too little text to judge a reading by
LETTER_RANGE = (0.6, 1.6)  # times the typical letter height
BOX_MARGIN = 0.3  # word boxes are widened by this share of the letter height (touching marks, accents)
# Writing left unread. Lengths are in letter heights (h) of the page's print, measured on the analysis copy.
RULE_LENGTH = 3  # h: a straight run of ink this long is a rule or an underline, not writing
MARK_MIN = (0.5, 0.8, 0.15)  # h, h, h²: a stroke's least height, longer side and ink (dots, dashes and dust are less)
MARK_MAX = (8, 30)  # h: a mark taller or wider is a frame, a fold or the page's edge
EDGE_SHARE = 0.01  # of the longer side: marks touching the image's edges are the paper's edge and its shadow
GROUP = (1.5, 0.6)  # h: strokes this close (across, down) belong to one piece of writing
AREA_MIN = (3, 1.2, 2)  # h, h, h²: a piece of writing's least width, height and ink
MIN_CONTRAST = 0.45  # ink less dark than this share of the print's darkness is the reverse side or dirt (0.2-0.35)
MAX_FILL = 0.4  # ink filling more of its convex hull is a blot (punched holes, their shadows: 0.45-1.05;
# writing and stamps 0.1-0.35)
MAX_TALL = 3  # an area this many times taller than wide is the page's edge or a book's gutter


def unread_share(ocr_image: np.ndarray, words: Sequence[Word]) -> float | None:
    """Share (0..1) of the page's letter-sized marks outside every word box (boxes in `ocr_image` pixels);
    None when the page has too few letters to tell."""
    small, factor = downscale(ocr_image, ANALYSIS_SIDE)
    centres, height = _letter_centres(small)
    if len(centres) < MIN_LETTERS:
        return None
    covered = _word_mask(small.shape, words, factor, BOX_MARGIN * height)
    xs, ys = centres[:, 0].astype(np.int32), centres[:, 1].astype(np.int32)
    return float(1.0 - covered[ys, xs].mean())


def _letter_centres(small: np.ndarray) -> tuple[np.ndarray, float]:
    """Centres (x, y) of letter-sized marks and the typical letter height (ink-weighted median), in px."""
    _, (_, _, stats, centroids) = _ink_marks(small)
    height, plausible = _letter_height(stats, small.shape[0], MIN_LETTERS)
    if not height:
        return np.empty((0, 2)), 0.0
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    low, high = LETTER_RANGE
    letters = plausible & (heights >= low * height) & (heights <= high * height)
    return centroids[1:][letters], height


def _ink_marks(small: np.ndarray) -> tuple[np.ndarray, tuple]:
    """The ink of the analysis copy and its marks (`marks_of`), found once: the share left unread and the places
    left unread measure the same copy of a page (the copy itself is shared by `downscale`)."""
    return remembered(small, ("unread ink",), lambda: (ink := ink_mask(small), marks_of(ink)))


def _letter_height(stats: np.ndarray, page_height: int, at_least: int) -> tuple[float, np.ndarray]:
    """The typical letter height (ink-weighted median of plausible marks' heights; 0.0 when fewer than
    `at_least` marks are plausible) and which marks are plausible letters."""
    heights, widths = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    plausible = (heights >= 4) & (heights <= page_height / 20) & (widths <= 4 * heights)
    if plausible.sum() < at_least:
        return 0.0, plausible
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
    return float(ink_weighted_height(heights[plausible], areas[plausible], 0.5)), plausible


def writing_left_unread(ocr_image: np.ndarray, words: Sequence[Word]) -> tuple[PixelBox, ...]:
    """Boxes (left, top, right, bottom, in `ocr_image` pixels) around the writing no word of the reading covers:
    handwriting, signatures and stamps, or print Tesseract skipped. Empty on a page with too little print to
    measure letters by."""
    small, factor = downscale(ocr_image, ANALYSIS_SIDE)
    ink, (_, _, stats, _) = _ink_marks(small)
    height, _ = _letter_height(stats, small.shape[0], MIN_LETTERS // 4)
    if not height:
        return ()
    covered = _word_mask(small.shape, words, factor, BOX_MARGIN * height)
    strokes = _strokes(_without_rules(ink, height), height) & ~covered
    areas = []
    count, labels, stats, _ = marks_of(cv2.dilate(strokes.astype(np.uint8) * 255, _box_kernel(*GROUP, height)))
    darkness = _print_darkness(small, ink > 0, covered)
    for label in range(1, count):
        left, top, width, tall, _ = stats[label]
        area = strokes[top:top + tall, left:left + width] & (labels[top:top + tall, left:left + width] == label)
        if _is_writing(area, small[top:top + tall, left:left + width], height, darkness):
            areas.append(tuple(int(round(v * factor)) for v in (left, top, left + width, top + tall)))
    return tuple(areas)


def _word_mask(shape: tuple[int, int], words: Sequence[Word], factor: float, grow: float) -> np.ndarray:
    covered = np.zeros(shape, dtype=bool)
    for word in words:
        left, top, right, bottom = (v / factor for v in word.bbox)
        covered[max(0, int(top - grow)):int(bottom + grow) + 1, max(0, int(left - grow)):int(right + grow) + 1] = True
    return covered


def _without_rules(ink: np.ndarray, height: float) -> np.ndarray:
    """`ink` without its straight horizontal and vertical runs of RULE_LENGTH letter heights or more."""
    run = max(9, int(RULE_LENGTH * height))
    rules = cv2.bitwise_or(cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, run), np.uint8)),
                           cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((run, 1), np.uint8)))
    return cv2.subtract(ink, cv2.dilate(rules, np.ones((3, 3), np.uint8)))


def _strokes(ink: np.ndarray, height: float) -> np.ndarray:
    """The marks of `ink` that may be strokes of writing: big enough, not too big, away from the image's edges."""
    count, labels, stats, _ = marks_of(ink)
    left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    width, tall, area = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    least_height, least_side, least_ink = MARK_MIN
    most_height, most_width = MARK_MAX
    edge = max(2, int(EDGE_SHARE * max(ink.shape)))
    keep = ((tall >= least_height * height) & (np.maximum(width, tall) >= least_side * height)
            & (area >= least_ink * height * height) & (tall <= most_height * height) & (width <= most_width * height)
            & (left >= edge) & (top >= edge) & (left + width <= ink.shape[1] - edge)
            & (top + tall <= ink.shape[0] - edge))
    keep[0] = False  # the background
    return marked(keep, labels)


def _print_darkness(small: np.ndarray, ink: np.ndarray, covered: np.ndarray) -> tuple[float, float]:
    """(the paper's grey, how much darker the print that was read is), the scale ink is measured by."""
    paper = float(np.percentile(small[~ink], 60))
    printed = small[ink & covered]
    return paper, max(1.0, paper - float(np.median(printed if printed.size >= 500 else small[ink])))


def _is_writing(area: np.ndarray, grey: np.ndarray, height: float, darkness: tuple[float, float]) -> bool:
    """Whether the strokes `area` (a mask) of the image `grey` (the same window) look like writing, on a page
    whose paper and print have `darkness` (see _print_darkness)."""
    tall, width = area.shape
    least_width, least_height, least_ink = AREA_MIN
    ink = int(np.count_nonzero(area))
    if width < least_width * height or tall < least_height * height or tall > MAX_TALL * width \
            or ink < least_ink * height * height:
        return False
    paper, print_darkness = darkness
    if paper - float(np.median(grey[area])) < MIN_CONTRAST * print_darkness:
        return False
    hull = cv2.contourArea(cv2.convexHull(cv2.findNonZero(area.astype(np.uint8))))
    return ink < MAX_FILL * hull


def _box_kernel(across: float, down: float, height: float) -> np.ndarray:
    return np.ones((max(3, int(down * height)) | 1, max(3, int(across * height)) | 1), np.uint8)
