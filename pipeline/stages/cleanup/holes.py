"""Punched holes: the round holes a binder or file punch leaves near one edge of a sheet.

Scanned with a dark lid they show as dark discs in the margin, which Tesseract reads as "o", "@" or "•", or
which make it see a column of marks beside the text. They are filled with the paper's colour in the OCR
image only: the access image keeps them, as they are part of the document as it was scanned.

A mark counts as a hole when it is as dark as a scanner bed, round (it fills most of its enclosing circle
and is as wide as high), 4-10 mm across (ISO 838 holes are 6 mm, North American ones 1/4 to 5/16 inch),
at least twice the page's letter height (dpi tags are often wrong; letters are measured), alone (no other
ink around it: letters come in lines), and its centre lies in the outer band of the page. An "o" of 12 pt
type is about 2 mm, round stamps far larger than 10 mm, so text is never taken for a hole.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from ...profiles import CropBordersSettings
from .measure import downscale, marks_of, percentile_of_bytes, remember_copy, text_height
from .work import Work

ANALYSIS_SIDE = 1000  # px, longer side: an A4 page at ~85 dpi, a 6 mm hole ~20 px across
HOLE_MM = (4.0, 10.0)  # diameter range
EDGE_BAND = 0.18  # share of the page's width (height) from the left or right (top or bottom) edge
MIN_FILL = 0.75  # area / area of the circle of the mark's mean diameter
MIN_LETTER_RATIO = 1.8  # hole diameter / the page's letter height, at least
MAX_NEIGHBOUR_INK = 0.2  # other dark pixels within a diameter around the hole, as a share of its area
MAX_ELONGATION = 1.25  # width / height (or height / width), at most
FILL_MARGIN = 1.2  # the filled disc is this much wider than the hole: its dark rim goes too
MM_PER_INCH = 25.4


def fill_punched_holes(work: Work, settings: CropBordersSettings) -> Work | None:
    if not settings.punched_holes:
        return None
    candidates = find_punched_holes(work.ocr, 300 * work.dpi_scale, settings.bed_darkness)
    if not candidates:
        return None  # most pages: the letters need not be measured here
    height = work.text_height if work.text_height is not None and work.ocr_scale == 1.0 else text_height(work.ocr)
    holes = wider_than_letters(candidates, height)
    if not holes:
        return replace(work, text_height=height)  # measured once: the resolution step reuses it
    ocr = work.ocr.copy()
    # The flattening that follows measures the paper on a copy of this size (photometric.ANALYSIS_SIDE); the copy
    # the holes were found on, its discs filled too, serves it (3.7 ms for a fresh copy of a 2 MP page). The two
    # differ only along the discs' rims, where the fresh copy mixes the filled disc with the paper around it; the
    # flattened page, by at most 2 grey levels around the holes (DK_02), and not at all on BF-19380810_EN_01.
    small, factor = downscale(work.ocr, ANALYSIS_SIDE)
    filled_small = small.copy()
    for x, y, radius in holes:
        paper = int(np.median(_ring(ocr, x, y, radius)))
        cv2.circle(ocr, (round(x), round(y)), round(radius * FILL_MARGIN), paper, thickness=-1)
        cv2.circle(filled_small, (round(x / factor), round(y / factor)), round(radius * FILL_MARGIN / factor), paper,
                   thickness=-1)
    remember_copy(ocr, ANALYSIS_SIDE, filled_small)
    return replace(work, ocr=ocr, holes=len(holes), text_height=height)


def find_punched_holes(grey: np.ndarray, dpi: float, darkness: float,
                       letter_height: float | None = None) -> list[tuple[float, float, float]]:
    """Holes as (x, y, radius) in `grey`'s pixels; `dpi` is the image's resolution, `letter_height` the
    page's typical letter height in its pixels (None: every hole-like mark, for a caller that measures the
    letters only when there is one and then applies `wider_than_letters` itself)."""
    small, factor = downscale(grey, ANALYSIS_SIDE)
    paper = percentile_of_bytes(small, 90)
    dark = (small < darkness * paper).astype(np.uint8)
    _, labels, stats, centroids = marks_of(dark)
    px_per_mm = dpi / factor / MM_PER_INCH
    height, width = small.shape
    widths, heights = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    diameters = (widths + heights) / 2
    # Size, roundness and fill first, for all marks at once: a page has thousands, a few are hole-sized.
    round_marks = ((HOLE_MM[0] <= diameters / px_per_mm) & (diameters / px_per_mm <= HOLE_MM[1])
                   & (np.maximum(widths, heights) <= MAX_ELONGATION * np.minimum(widths, heights))
                   & (stats[:, cv2.CC_STAT_AREA] >= MIN_FILL * np.pi * (diameters / 2) ** 2))
    round_marks[0] = False  # label 0 is the paper
    holes = []
    for i in np.flatnonzero(round_marks):
        area, diameter = stats[i, cv2.CC_STAT_AREA], diameters[i]
        x, y = centroids[i]
        if _ink_around(dark, labels, i, stats[i]) > MAX_NEIGHBOUR_INK * area:
            continue
        near_side = x < EDGE_BAND * width or x > (1 - EDGE_BAND) * width
        near_end = y < EDGE_BAND * height or y > (1 - EDGE_BAND) * height
        if near_side or near_end:
            holes.append((x * factor, y * factor, diameter / 2 * factor))
    return holes if letter_height is None else wider_than_letters(holes, letter_height)


def wider_than_letters(holes: list[tuple[float, float, float]], letter_height: float | None) -> list:
    """The holes at least MIN_LETTER_RATIO times the page's letter height across: smaller round marks are
    letters ("o" at a wrong dpi tag). No letters measured: no hole can be told from a letter, none is kept."""
    return [hole for hole in holes if letter_height and 2 * hole[2] >= MIN_LETTER_RATIO * letter_height]


def _ink_around(dark: np.ndarray, labels: np.ndarray, label: int, stat: np.ndarray) -> int:
    """Dark pixels of other marks within one diameter of a mark's box."""
    left, top, w, h = stat[cv2.CC_STAT_LEFT], stat[cv2.CC_STAT_TOP], stat[cv2.CC_STAT_WIDTH], stat[cv2.CC_STAT_HEIGHT]
    reach = max(w, h)
    rows = slice(max(0, top - reach), top + h + reach)
    cols = slice(max(0, left - reach), left + w + reach)
    return int(np.count_nonzero(dark[rows, cols] & (labels[rows, cols] != label)))


def _ring(grey: np.ndarray, x: float, y: float, radius: float) -> np.ndarray:
    """Pixels in a ring just outside a hole: the paper around it."""
    outer = round(radius * 2)
    top, left = max(0, round(y) - outer), max(0, round(x) - outer)
    patch = grey[top:round(y) + outer + 1, left:round(x) + outer + 1]
    rows, cols = np.ogrid[top:top + patch.shape[0], left:left + patch.shape[1]]
    distance = np.hypot(rows - y, cols - x)
    ring = patch[(distance > radius * FILL_MARGIN) & (distance <= outer)]
    return ring if ring.size else np.array([255], dtype=np.uint8)
