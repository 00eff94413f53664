"""Geometric cleanup: straighten the page and crop the scanner bed. Done to the OCR image; the access image keeps its
pixels, and the angle and the box say how to show it (CleanedPage.page_image)."""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np

from ...profiles import CropBordersSettings, DeskewSettings
from .lines import NEAR_SKEW, whole_degree_sharpness
from .measure import downscale, letters_of_page, line_sharpness, percentile_of_bytes, remember_copy, remembered
from .work import Work, to_grey

SKEW_ANALYSIS_SIDE = 1200  # px, longer side: fine enough for 0.1 degree precision, still fast
PAGE_ANALYSIS_SIDE = 1000  # px, longer side: the page outline needs less detail
MIN_INK_PIXELS = 200  # fewer ink pixels than this: no text to measure a skew on
COARSE_STEP, FINE_STEP = 0.3, 0.05  # degrees: the skew search's steps around its best whole degree
MIN_SKEW_GAIN = 1.02  # a skew must sharpen the text lines by 2 % over "no skew", else it is noise
MIN_PAPER_GREY = 60  # brightest part of the page darker than this: a dark page, not a dark border
# A bright region at least this share of the largest is a part of the same sheet (or of a spread's other page);
# smaller ones are bits of the bed (a reflection, a ruler, a label beside the sheet).
PAGE_PART_SHARE = 0.05
MIN_BED_SHARE = 0.003  # scanner bed showing beside a page that fills the scan, share of the image: less (about a
# half-millimetre strip along a long side of A4) is left alone, so a scan without a bed reaches Tesseract unchanged;
# 1 % and 0.3 % were measured on the dev corpus (bench/RESULTS.md), 0.3 % read better


# --- 1. deskew ----------------------------------------------------------------------------------------------

def deskew(work: Work, settings: DeskewSettings) -> Work | None:
    """Straighten the OCR image. The access image is not resampled: it keeps the scan's pixels, and the page
    shows it turned by `skew_angle` (CleanedPage.page_image; the PDF turns it as it draws it, stages.render).
    Turning a colour scan's pixels took more of the cleanup than any other step: 20-60 ms for an 8-10 MP page
    on one core, the most at the largest angles (bench/RESULTS.md, twenty-fourth session)."""
    angle = estimate_skew(work.ocr, settings.max_angle)
    if abs(angle) < settings.min_angle:
        return None
    paper = paper_colour(work.access)
    grey_paper = paper if isinstance(paper, int) else _grey_level(paper)
    ocr = rotate(work.ocr, -angle, grey_paper)
    # The up-or-down test that follows measures the straightened page on a copy of this size; the copy the
    # skew was measured on, turned too, serves it. Only that test reads it (the page outline and the letter
    # sizes are measured on copies of their own sizes), and its cues do not hang on a pixel.
    if max(ocr.shape) > SKEW_ANALYSIS_SIDE:
        small, _ = downscale(work.ocr, SKEW_ANALYSIS_SIDE)
        remember_copy(ocr, SKEW_ANALYSIS_SIDE, rotate(small, -angle, grey_paper))
    return replace(work, ocr=ocr, skew_angle=angle, paper=paper)


def estimate_skew(grey: np.ndarray, max_angle: float) -> float:
    """Counter-clockwise skew of the text lines in degrees, 0.0 if there are no lines to measure.

    Projection profiles: text pixels projected onto the vertical axis give sharp peaks (lines) and gaps only
    when projected along the lines' true direction. A search of whole degrees finds the peak (within 5 degrees
    either way, and up to max_angle only where no lines are found there: lines.whole_degree_sharpness), steps
    of 0.3 degrees around it and then of 0.05 the precise angle. The steps of 0.3 degrees are narrower than the
    peak of a text page; they are only taken within a degree of the peak of whole degrees (a parabola through
    its neighbours places it between them), which is where all of them found it: 34 projections became 18,
    2.4 ms of a page (the corpus's pages turned by 27 angles from -4.5 to 4.5 degrees: the same skew in each of
    780 cases but 4, where the page's own skew and the turn added up to more than 5 degrees, the search's range
    then).
    """
    _, ys, xs = letters_of_page(grey, SKEW_ANALYSIS_SIDE)
    if len(ys) < MIN_INK_PIXELS:
        return 0.0
    degree, _ = _peak(*whole_degree_sharpness(ys, xs, max_angle))
    # The steps lie where a search of NEAR_SKEW degrees either way puts them (from -NEAR_SKEW on), whatever the
    # range: a page within it is measured as it was before the search reached further.
    first = -NEAR_SKEW - COARSE_STEP * math.floor((max_angle - NEAR_SKEW) / COARSE_STEP)
    coarse = np.arange(first, max_angle + COARSE_STEP / 2, COARSE_STEP)
    best, _ = _best_angle(ys, xs, coarse[np.abs(coarse - degree) <= 1.0])
    best, best_score = _best_angle(ys, xs, np.arange(best - COARSE_STEP, best + COARSE_STEP + 0.01, FINE_STEP))
    if best_score < MIN_SKEW_GAIN * line_sharpness(ys, xs, 0.0):
        return 0.0
    return round(float(best), 2)


def _best_angle(ys: np.ndarray, xs: np.ndarray, angles: np.ndarray) -> tuple[float, float]:
    return _peak(angles, np.array([line_sharpness(ys, xs, a) for a in angles]))


def _peak(angles: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """The angle of the highest score and the score; a parabola through it and its neighbours places it
    more finely than the grid of `angles`."""
    i = int(np.argmax(scores))
    if 0 < i < len(angles) - 1:
        left, mid, right = scores[i - 1], scores[i], scores[i + 1]
        curvature = left - 2 * mid + right
        if curvature < 0:
            offset = 0.5 * (left - right) / curvature
            return float(angles[i] + offset * (angles[1] - angles[0])), float(mid)
    return float(angles[i]), float(scores[i])


def rotate(image: np.ndarray, angle: float, fill: tuple[int, ...] | int) -> np.ndarray:
    """Turn counter-clockwise by `angle` degrees about the centre, keeping the size.

    Keeping the size keeps the page's physical dimensions in the PDF. A sheet lying askew within the scan fits it
    straightened too (straight, it is narrower and shorter than its askew outline), and at a few degrees the
    corners move by less than a typical page margin. What the scan holds in its very corners at larger skews (a
    sheet cut to the scan's edges) can be lost. The uncovered corners are filled with the paper's colour.
    """
    if image.ndim == 3 and image.shape[2] == 3:  # the same pixels, faster on four channels (14 MP: 98 -> 88 ms)
        turned = rotate(cv2.cvtColor(image, cv2.COLOR_RGB2RGBA), angle, (*fill, 255))
        return cv2.cvtColor(turned, cv2.COLOR_RGBA2RGB)
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=fill)


def paper_colour(image: np.ndarray) -> tuple[int, int, int] | int:
    """The colour of the paper: the median of the brighter pixels (above Otsu's threshold) of a sample."""
    step = max(1, max(image.shape[:2]) // 400)
    sample = np.ascontiguousarray(image[::step, ::step])  # every n-th pixel: plenty for a median, no resampling
    _, bright = cv2.threshold(to_grey(sample), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    paper = sample[bright > 0]
    if image.ndim == 2:
        return int(percentile_of_bytes(paper, 50)) if paper.size else 255
    return tuple(int(percentile_of_bytes(paper[:, c], 50)) for c in range(3)) if paper.size else (255, 255, 255)


def _grey_level(rgb: tuple[int, int, int]) -> int:
    return int(cv2.cvtColor(np.array([[rgb]], dtype=np.uint8), cv2.COLOR_RGB2GRAY)[0, 0])


# --- 2. crop the scanner bed --------------------------------------------------------------------------------

def crop_borders(work: Work, settings: CropBordersSettings) -> Work | None:
    page, factor = find_page(work.ocr, work.skew_angle, settings.bed_darkness)
    if page is None:
        return None
    x, y, w, h = cv2.boundingRect(page)
    if w * h < settings.min_page_fraction * page.size:
        return None  # too small to trust as the page: better keep a border than cut text
    height, width = work.ocr.shape
    margin = settings.margin_px * work.dpi_scale + factor  # + one analysis pixel of imprecision
    left, top = max(0, int(x * factor - margin)), max(0, int(y * factor - margin))
    right, bottom = min(width, int((x + w) * factor + margin)), min(height, int((y + h) * factor + margin))
    if (left, top, right, bottom) == (0, 0, width, height):
        # Nothing to cut, but the bed may still show in strips and corners: a page photographed or fed a
        # little askew, or not flat. Tesseract reads their edges as letters, so the OCR image loses them. An
        # otherwise clean page still goes the gentle path and is read as scanned (its crop box stays None):
        # raw Tesseract reads such pages as well with the strip as without, and the full cleanup read three
        # of four clean pages with a strip worse than raw (bench/RESULTS.md).
        bed = (page == 0) & _scanned_area(page.shape, work.skew_angle)  # not the corners straightening filled
        if not MIN_BED_SHARE * page.size <= np.count_nonzero(bed) <= (1 - settings.min_page_fraction) * page.size:
            return None  # no bed to speak of, or too little paper to trust the outline (a dark photo, a negative)
        # The strips are left out of Work.bed: the flattening takes them for paper, as before. Measured with them
        # as bed too, Tesseract read three of ron_dev_a's lines in pieces and left nothing unread to read again
        # (stages.skipped_print, tests/test_skipped_print.py), and the 96 dpi typescript WL16560044_08 read a
        # line of junk along its top edge; real scans read a little better so, and variants of DIBCO PR2 much
        # better (bench/RESULTS.md, thirtieth session).
        ocr, _ = _whiten_outside(work.ocr, page, (0, 0, width, height))
        return replace(work, ocr=ocr)
    ocr, whitened = _whiten_outside(work.ocr, page, (left, top, right, bottom))
    return replace(work, ocr=ocr, bed=whitened, crop_box=_in_access((left, top, right, bottom), work))


def _in_access(box: tuple[int, int, int, int], work: Work) -> tuple[int, int, int, int]:
    """A box of the OCR image in the access image's pixels: the same box, unless the OCR image was reduced
    before the crop (resolution.reduce_large_page). A side on the OCR image's edge stays on the page's edge."""
    if work.ocr_scale == 1.0:
        return box
    (height, width), (ocr_height, ocr_width) = work.access.shape[:2], work.ocr.shape
    left, top, right, bottom = (round(side / work.ocr_scale) for side in box)
    return (max(0, left), max(0, top), width if box[2] >= ocr_width else min(width, right),
            height if box[3] >= ocr_height else min(height, bottom))


def find_page(grey: np.ndarray, skew_angle: float, bed_darkness: float,
              side: int = PAGE_ANALYSIS_SIDE) -> tuple[np.ndarray | None, float]:
    """A mask of the page (the largest bright region, holes filled) on a copy downscaled to `side` px by the
    returned factor; None when the page cannot be told from the background."""
    small, factor = downscale(grey, side)
    small = cv2.medianBlur(small, 5)  # letters are not scanner bed
    scanned = _scanned_area(small.shape, skew_angle)
    paper = percentile_of_bytes(small[scanned], 90)
    if paper < MIN_PAPER_GREY:
        return None, factor
    bright = ((small >= paper * bed_darkness) & scanned).astype(np.uint8)
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None, factor
    areas = [cv2.contourArea(contour) for contour in contours]
    parts = [contour for contour, area in zip(contours, areas) if area >= PAGE_PART_SHARE * max(areas)]
    page = np.zeros_like(bright)
    if len(parts) == 1:
        cv2.drawContours(page, parts, -1, 1, thickness=cv2.FILLED)
    else:
        # A sheet cut in parts by a dark line across it (a fold's shadow, a thick rule, a spread's gutter on a dark
        # bed): the page is all of them and what lies between. The largest part alone cut the rest of the page
        # from the PDF and the text (a fold at 45 % of the height lost the page's upper half).
        cv2.fillConvexPoly(page, cv2.convexHull(np.vstack(parts)), 1)
    return page, factor


def page_box(small: np.ndarray) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the sheet on a measuring copy, found as `crop_borders` finds it with its
    default darkness of a scanner bed; None when too little of the copy is paper to trust the outline (a dark
    photograph, a negative). Remembered for the copy: lines against columns, the orientation detector's sheet
    and a spread's pages all ask it of the same one."""
    return remembered(small, ("page box",), lambda: _page_box(small))


def _page_box(small: np.ndarray) -> tuple[int, int, int, int] | None:
    bed = CropBordersSettings()
    page, factor = find_page(small, 0.0, bed.bed_darkness, max(small.shape))  # the copy as it is
    if page is None or page.mean() < bed.min_page_fraction:
        return None
    x, y, w, h = cv2.boundingRect(page)
    return int(x * factor), int(y * factor), int((x + w) * factor), int((y + h) * factor)


def _scanned_area(shape: tuple[int, int], skew_angle: float) -> np.ndarray:
    """Where the straightened image shows the scan rather than the corners filled in by the rotation."""
    if skew_angle == 0:
        return np.ones(shape, dtype=bool)
    ones = np.full(shape, 255, dtype=np.uint8)
    turned = cv2.warpAffine(ones, cv2.getRotationMatrix2D((shape[1] / 2, shape[0] / 2), -skew_angle, 1.0),
                            (shape[1], shape[0]), flags=cv2.INTER_NEAREST, borderValue=0)
    return cv2.erode(turned, np.ones((3, 3), np.uint8)) > 0


def _whiten_outside(ocr: np.ndarray, page: np.ndarray,
                    box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The ocr image cropped to `box`, with what is left of the scanner bed painted white so Tesseract does
    not read its edges as letters, and the bed's small mask within the box (255 bed, 0 sheet). The mask is
    shrunk by a hair (about half a millimetre) so the shadow along the paper's edge goes too: no text is
    printed that close to the edge of a sheet."""
    left, top, right, bottom = box
    shrunk = cv2.erode(page, np.ones((5, 5), np.uint8))
    # Only the part of the small mask inside the box is enlarged: a full-size mask of a big scan is slow.
    sy, sx = page.shape[0] / ocr.shape[0], page.shape[1] / ocr.shape[1]
    small_box = shrunk[int(top * sy): max(int(top * sy) + 1, int(np.ceil(bottom * sy))),
                       int(left * sx): max(int(left * sx) + 1, int(np.ceil(right * sx)))]
    off_small = cv2.compare(small_box, 0, cv2.CMP_EQ)  # 255 off the page, 0 on it
    off_page = cv2.resize(off_small, (right - left, bottom - top), interpolation=cv2.INTER_NEAREST)
    return cv2.bitwise_or(ocr[top:bottom, left:right], off_page), off_small
