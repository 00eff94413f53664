"""Which way up is the page? Quarter turns are found without reading the page.

Cheap measurements on letter-sized marks, a few milliseconds each on a downscaled copy:
  - lines or columns: text lines make the projection across them sharp (peaks and gaps), the projection
    along them flat. A page whose marks line up in columns is lying on its side.
  - up or down: in Latin and Cyrillic print, more letters reach above the x-height (capitals, digits,
    b d f h k l t) than below the baseline (g j p q y). In every text line the ink above the dense middle
    band outweighs the ink below it; on a page upside down it is the other way round. And lines begin at
    a straight left margin but end raggedly; turned over, the ragged side is on the left. Both are also
    measured on the letters' dark pixels alone, which the reverse side showing through does not reach.
    The ink above and below the lines is measured in vertical strips of the page, where curved lines are
    nearly straight.
Only when a measurement is unsure does Tesseract's orientation detector (`--psm 0`) get asked, so an upright
page costs no extra Tesseract run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..._exec import tesseract
from ...profiles import MAX_SKEW_ANGLE
from .geometry import MIN_BED_SHARE, page_box
from .lines import NEAR_SKEW, lines_found, lines_of_text, whole_degrees
from .measure import (STRIP_ASPECT, downscale, letter_pixels, letters_of_page, line_sharpness, remembered,
                      text_height)

ANALYSIS_SIDE = 1200  # px, longer side
SIDEWAYS_RATIO = 1.6  # columns this much sharper than lines: the page lies on its side (see is_sideways)
# Columns at least this sharp against lines: the measure cannot tell lines from columns, and the detector's word
# that the page lies on its side counts (see upright_turn). A typewriter's letter grid makes columns: of the
# corpus's upright pages (0.07-1.03), six typescripts and the DIBCO PR1 strip measure 0.72 or more. Sideways,
# PR1 measures 0.95, and 0.76 faded: there the detector, asked when the up-and-down cues are unsure, decides.
ALIKE_RATIO = 0.7
STRONG_ASCENDER_SCORE = 0.2  # ascender surplus that settles "upright" whatever the margins show
SURE_ASCENDER_SCORE = 0.08  # ascender surplus trusted when the margin cue does not contradict it
SURE_MARGIN_SCORE = 0.02  # ragged-right surplus (share of the width) beyond which that cue is trusted
MIN_LINES = 3
MAX_LINE_HEIGHT_RATIO = 1.5  # a band this much taller than the median line is not one line of print
ASCENDER_STRIPS = 4  # vertical strips the ascender cue is measured in (see _cues)
SKEW_RANGE = MAX_SKEW_ANGLE  # degrees: the lines or columns are looked for at skews up to any deskew looks for
MIDDLE_RANGE = 20  # degrees: first this far (see _columns_to_lines)
OSD_LETTER_PX = 22  # letter height of the copy Tesseract's orientation detector reads (see osd_turn)
OSD_SIDE = 1200  # px, longer side of that copy when no letter height can be measured
OSD_MAX_PIXELS = 16_000_000  # an enlarged copy is kept below this
OSD_MIN_LETTER_PX = 12  # smaller letters on the page: the detector is not asked (see osd_turn)


@dataclass(frozen=True)
class Orientation:
    turn: int  # degrees counter-clockwise the page must be turned to stand upright: 0, 90, 180 or 270
    method: str  # "projection" or "osd" (how it was decided), or "none" when there was nothing to measure


def is_sideways(grey: np.ndarray) -> bool | None:
    """True when text runs vertically, False when horizontally, None when there is too little text
    (`columns_to_lines` over SIDEWAYS_RATIO)."""
    ratio = columns_to_lines(grey)
    return None if ratio is None else ratio > SIDEWAYS_RATIO


def columns_to_lines(grey: np.ndarray) -> float | None:
    """How much sharper the page's marks line up in columns than in lines; None when there is too little text.

    Only the inner part of the sheet is measured: the edges of a dark scanner bed, a book's fold or the stacked
    edges of its other pages run in straight lines too, and would pass for columns or lines. The sheet is
    found first, as `crop_borders` finds it (`page_box`), so that a scanner bed around it does not push those
    edges into the inner part of the scan (the Kant page on a bed, turned a quarter: 1.56, taken for upright;
    within its sheet 3.80). Measured once per array: `upright_turn` can ask twice on a strip standing on its end."""
    return remembered(grey, ("columns to lines",), lambda: _columns_to_lines(grey))


def _columns_to_lines(grey: np.ndarray) -> float | None:
    small, ys, xs = letters_of_page(grey, ANALYSIS_SIDE)
    left, top, right, bottom = page_box(small) or (0, 0, small.shape[1], small.shape[0])
    height, width = bottom - top, right - left
    inner = ((ys >= top + height // 10) & (ys < bottom - height // 10)
             & (xs >= left + width // 10) & (xs < right - width // 10))
    ys, xs = ys[inner], xs[inner]
    if len(ys) < 500:
        return None
    # Each direction at its best angle, found to a tenth of a degree: a skewed page's lines are blurred at
    # exactly 0 degrees, while its left margin (all lines starting at one x) or a typewriter's letter grid
    # makes sharp columns. With whole degrees only, a typescript skewed by 0.35 degrees measured 1.5 upright
    # and 1.25 turned sideways. Found finely, the 30 pages of the development corpus and 6 other pages
    # measure at most 1.45 upright (a camera photo of a curved book page; the rest at most 0.95) and at
    # least 1.79 sideways: SIDEWAYS_RATIO lies between the two.
    # Both are looked for up to NEAR_SKEW degrees either way, and up to SKEW_RANGE when no lines are found there
    # (a sheet laid further askew, or lying on its side); each direction takes the further search's peak if it
    # is one of lines of text (lines.lines_of_text). With both looked for within 5 degrees only, 10 of the
    # corpus's 26 real scans laid 8 degrees askew were turned a quarter or over. The columns do not decide whether
    # to look further: US_02 turned by 8 degrees showed a peak of "columns" at 0 degrees. A far peak of hatching
    # is no column either: taken for columns at 10 degrees from upright, hatched boxes turned a plan a quarter.
    # The further search goes to MIDDLE_RANGE first, and on to SKEW_RANGE only when neither direction has a peak
    # of lines of text inside it (not at its ends): a sheet laid 6-20 degrees askew is measured as before the
    # search reached 40 degrees. (Stopping at any peak inside it, a typescript lying on its side 30 degrees askew
    # stopped at its letters' grid and was turned over instead.)
    lines, columns = whole_degrees(ys, xs, NEAR_SKEW), whole_degrees(xs, ys, NEAR_SKEW)
    if not lines_found(lines[1]):
        far_lines, far_columns = lines, columns
        for reach in (MIDDLE_RANGE, SKEW_RANGE) if SKEW_RANGE > MIDDLE_RANGE else (SKEW_RANGE,):
            far_lines, far_columns = whole_degrees(ys, xs, reach, far_lines), whole_degrees(xs, ys, reach, far_columns)
            if lines_found(far_lines[1]) and lines_of_text(ys, xs, *far_lines) \
                    or lines_found(far_columns[1]) and lines_of_text(xs, ys, *far_columns):
                break
        lines = far_lines if lines_of_text(ys, xs, *far_lines) else lines
        columns = far_columns if lines_of_text(xs, ys, *far_columns) else columns
    lines_sharpness, columns_sharpness = _sharpest(ys, xs, *lines), _sharpest(xs, ys, *columns)
    if not lines_sharpness:
        return math.inf if columns_sharpness else None
    return columns_sharpness / lines_sharpness


def _sharpest(ys: np.ndarray, xs: np.ndarray, angles: np.ndarray, scores: np.ndarray) -> float:
    """The sharpest projection onto the y axis: the best of the whole degrees `angles` (their `scores`), and the
    tenths of a degree around it."""
    peak = angles[int(np.argmax(scores))]
    return max(scores.max(), *(line_sharpness(ys, xs, a) for a in np.arange(peak - 0.5, peak + 0.55, 0.1)))


def up_down_cues(grey: np.ndarray) -> tuple[tuple[float, float, int], tuple[float, float, int]]:
    """Two cues for up and down, each positive on an upright page and negative on one upside down; the page
    must already be straight. Returns them as (ascender cue, margin cue, number of text lines measured), once
    measured on the page's letters and once on their dark pixels only (see upright_turn).

    ascender cue: surplus of ink above the x-height band over ink below it, in -1..1.
    margin cue: lines start at one left margin and end raggedly (typescript, most letters); turned over,
    the ragged ends are on the left. Difference of the spread of line ends and of line starts, as a share
    of the page width; near 0 for justified print."""
    small, _ = downscale(grey, ANALYSIS_SIDE)
    letters, dark = letter_pixels(small)
    return _cues(letters), _cues(dark)


def _cues(mask: np.ndarray) -> tuple[float, float, int]:
    """(ascender cue, margin cue, lines) of the ink in `mask` (see up_down_cues).

    The ascender cue is summed over ASCENDER_STRIPS vertical strips of the page, each projected on its own: a
    line that curves (a book page bulging towards the camera, a sheet not lying flat) runs along a whole
    page's projection as a wide band, and its curve, not its letters, decides what lies above or below the
    band's dense middle. Turned over, the curve turns too, so the cue says the same wrong thing either way up
    (the corpus's photograph of a curved book page: -0.23 upright, +0.20 upside down; in four strips +0.07 and
    -0.09). Within a quarter of the page the lines are nearly straight. Measured on the corpus's 30 upright
    pages, the strips changed no decision and cost no detector run (bench/RESULTS.md)."""
    if np.count_nonzero(mask) < 500:
        return 0.0, 0.0, 0
    starts, ends = [], []
    ink = mask.view(np.uint8)
    for top, bottom, _, _ in _print_lines(_row_sums(ink)):
        inked = np.nonzero(cv2.reduce(ink[top:bottom], 0, cv2.REDUCE_MAX))[1]  # the line's inked columns
        starts.append(inked[0])
        ends.append(inked[-1])
    above = below = 0.0
    for strip in np.array_split(ink, ASCENDER_STRIPS, axis=1):
        profile = _row_sums(strip)
        for top, bottom, dense_top, dense_bottom in _print_lines(profile):
            above += profile[top:dense_top].sum()
            below += profile[dense_bottom:bottom].sum()
    total = above + below
    ascender = float((above - below) / total) if total else 0.0
    margin = (_spread(ends) - _spread(starts)) / mask.shape[1] if len(starts) >= MIN_LINES else 0.0
    return ascender, float(margin), len(starts)


def _row_sums(ink: np.ndarray) -> np.ndarray:
    """Ink pixels per row of a 0/1 mask (or of a slice of one), as floats: OpenCV's sum of the rows, the same
    whole numbers as NumPy's in a twentieth of the time (0.015 against 0.3 ms for a 1200 px copy)."""
    return cv2.reduce(ink, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel().astype(np.float64)


def _print_lines(profile: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The lines of print in a projection: (top, bottom, top and bottom of the line's dense middle band, the
    rows with at least half its peak ink), bottom rows exclusive. Bands much taller than the typical line are
    handwriting, a signature, a stamp or lines run together, where "above the x-height" means nothing (a page
    of a few typed lines, a signature and a stamp measured 0.04 with them, 0.5 without): they are left out."""
    if not profile.any():
        return []
    lines = [(top, bottom) for top, bottom in _text_lines(profile) if bottom - top >= 4]
    tallest = MAX_LINE_HEIGHT_RATIO * float(np.median([bottom - top for top, bottom in lines])) if lines else 0
    found = []
    for top, bottom in lines:
        band = profile[top:bottom]
        dense = np.nonzero(band >= 0.5 * band.max())[0]
        if bottom - top <= tallest and len(dense):
            found.append((top, bottom, top + int(dense[0]), top + int(dense[-1]) + 1))
    return found


def _spread(values: list[int]) -> float:
    values = np.asarray(values, dtype=np.float64)
    return float(np.median(np.abs(values - np.median(values))))


def _text_lines(profile: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges where the projection rises above a tenth of a typical line's ink."""
    level = 0.1 * np.percentile(profile[profile > 0], 90) if np.any(profile > 0) else 0
    on = profile > level
    edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    starts, stops = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    return list(zip(starts, stops))


def upright_turn(grey: np.ndarray, osd_confidence: float) -> tuple[int, str]:
    """How far a straight page taken for not lying on its side must be turned to stand upright (0 or 180, or
    90 or 270, see below), and how that was decided.

    Cues that agree on "upright" settle it at no cost, and so do cues that say "upside down" strongly
    (`_upside_down_at_no_cost`), except on a strip standing on its end whose lines and columns measure alike
    (`_standing_strip`). Anything else asks Tesseract's detector too, because turning a page wrongly ruins it:
    a form with few text lines or a page in another script can show weak or contrary cues while standing
    upright.

    The cues are measured twice: on all letters, and on their dark pixels only. On thin paper the reverse
    side's letters show through, grey, back to front, between the lines; their ink below or above a line's
    letters can outweigh its ascenders (the corpus's pages with their mirror image showing through: 5 of 30
    pages turned upside down were left so, bench/orientation.py --show-through). The dark pixels alone leave
    them out, but measure some pages wrongly (print that is grey where its strokes are thin, next to dark
    handwriting or stamps). So they mostly stop a decision: a page counts as upright at no cost when its
    letters say so and their dark pixels do not say the opposite (where its letters' lines run together, when
    the dark pixels say so and the letters' ascenders agree: `_upright_at_no_cost`), and it is turned on the
    cues alone (the detector unsure) when its letters say it stands on its head and their dark pixels do not
    contradict them.

    When the detector says the page lies on its side, it is believed only where lines and columns measured
    alike (`columns_to_lines` at ALIKE_RATIO or more); elsewhere the lines' direction is the surer of the
    two (see cleanup._turn_sideways). A strip of a few lines whose back shows through between them (DIBCO
    2011 PR1: 1.03 upright, 0.95 turned a quarter, 0.76 turned and faded) cannot be told apart by the
    measure; the detector answers each of its turns rightly."""
    letters, dark = up_down_cues(grey)
    if _upright_at_no_cost(letters, dark) and not _standing_strip(grey):
        return 0, "projection"
    if _upside_down_at_no_cost(letters, dark) and not _standing_strip(grey):
        return 180, "projection"
    turn = osd_turn(grey, osd_confidence)
    if turn in (90, 270) and (columns_to_lines(grey) or 0.0) < ALIKE_RATIO:
        return 0, "osd"
    if turn is not None:
        return turn, "osd"
    ascender, _, lines = letters
    flipped = lines >= MIN_LINES and ascender <= -SURE_ASCENDER_SCORE and not _upright_by_cues(*dark)
    return (180 if flipped else 0), "projection"


def _standing_strip(grey: np.ndarray) -> bool:
    """Whether `grey` is a strip standing on its end (over STRIP_ASPECT times as tall as wide) whose lines and
    columns measure alike. A snippet of a few lines is cut along its lines, so it is wide; standing, it has
    most likely been turned a quarter. Its up-and-down cues can still say "upright" (DIBCO 2011 PR1 turned 90:
    ascender cue 0.20), so the detector is asked. A column of print standing so has sharp lines."""
    height, width = grey.shape[:2]
    return height > STRIP_ASPECT * width and (columns_to_lines(grey) or 0.0) >= ALIKE_RATIO


def _upright_at_no_cost(letters: tuple[float, float, int], dark: tuple[float, float, int]) -> bool:
    """Whether the cues settle "upright": the letters' say so and their dark pixels' do not say the opposite.
    Where the reverse side shows through between closely set lines, it joins the letters' lines into fewer
    bands than MIN_LINES, and their cues count for nothing. The dark pixels, which the show-through does not
    reach, still part the lines: their own cues saying "upright", with the letters' ascenders not saying
    otherwise, settle it as well. DIBCO 2011 PR1, a four-line strip of Fraktur with its back showing through:
    letters 2 bands, ascender cue 0.18; dark pixels 5 lines, 0.15. It was shown to the detector (30 ms, 40 % of
    its cleanup) to be told what both cues said."""
    if _upright_by_cues(*letters):
        return not _upside_down_by_cues(*dark)
    ascender, _, lines = letters
    return lines < MIN_LINES and ascender >= SURE_ASCENDER_SCORE and _upright_by_cues(*dark)


def _upside_down_at_no_cost(letters: tuple[float, float, int], dark: tuple[float, float, int]) -> bool:
    """Whether the cues settle "upside down": the letters' ascenders say so as strongly as settles "upright"
    whatever the margins show (STRONG_ASCENDER_SCORE), and their dark pixels say so too. Upright, none of 192
    pages (the corpus's and five of its scan variants) measured below -0.11; upside down, most measure about
    -0.5, and Tesseract's detector, asked to confirm, cost 280-360 ms a page (bench/RESULTS.md, twenty-sixth
    session). Weaker cues (Cyrillic print has few ascenders, show-through, a strip of a few lines) still go to
    the detector."""
    ascender, _, lines = letters
    return lines >= MIN_LINES and ascender <= -STRONG_ASCENDER_SCORE and _upside_down_by_cues(*dark)


def _upright_by_cues(ascender: float, margin: float, lines: int) -> bool:
    if lines < MIN_LINES:
        return False
    if ascender >= STRONG_ASCENDER_SCORE:
        return True
    if ascender >= SURE_ASCENDER_SCORE and margin > -SURE_MARGIN_SCORE:
        return True
    # Ragged right, and not a clear ascender deficit (Cyrillic has few).
    return margin >= SURE_MARGIN_SCORE and ascender > -STRONG_ASCENDER_SCORE


def _upside_down_by_cues(ascender: float, margin: float, lines: int) -> bool:
    return lines >= MIN_LINES and ascender <= -SURE_ASCENDER_SCORE and margin < SURE_MARGIN_SCORE


def osd_turn(grey: np.ndarray, min_confidence: float) -> int | None:
    """Tesseract's orientation detector on a binarized copy whose letters are OSD_LETTER_PX high; None when it
    is not sure. A scan with a dark scanner bed around the sheet is shown to it twice, whole and as the sheet
    alone (`_sheet`), and its answer counts only when both agree.

    The letters' size decides whether the detector can be trusted, not the page's: on the 30 pages of the
    development corpus, each in four quarter turns, copies of 1200 px (letters of 6-15 px) were answered
    wrongly with confidence 35 times out of 120, copies with 22 px letters once (99 right, 20 unsure);
    16 px letters: 7 wrong, 30 px: 2 wrong and 20 % slower. Enlarging does not help letters the scan
    itself made too small (Tesseract's documentation: below an x-height of about 10 px there is little
    chance of accurate results): the wrong answers left came from pages with 9 px letters, so a page whose
    letters are smaller than OSD_MIN_LETTER_PX is not shown to the detector at all.

    The bed's edges are ink to the detector. JMP020_01 on a bed (bench/scan_variants.py's "bed"), in four
    turns: the whole scan was answered the wrong way up each time, with confidences of 0.4-2.2 (turned over,
    above the default 2.0: left on its head), the sheet alone rightly each time (2.5-8.3). But the sheet alone
    is no surer: BF-19380810_EN_01 (a dark band above the page), upright and turned over, was answered wrongly
    on its sheet with 2.1-2.2, where the whole scan left it unsure."""
    height = text_height(grey)
    if height is not None and height < OSD_MIN_LETTER_PX:
        return None
    turn = _detected_turn(grey, height, min_confidence)
    if turn is None:
        return None
    sheet = _sheet(grey)  # looked for only when there is an answer to check
    if sheet.shape == grey.shape:
        return turn
    return turn if _detected_turn(sheet, height, min_confidence) == turn else None


def _detected_turn(grey: np.ndarray, height: int | None, min_confidence: float) -> int | None:
    """The detector's turn for `grey`, whose letters are `height` px high; None when it is not sure."""
    factor = OSD_LETTER_PX / height if height else OSD_SIDE / max(grey.shape)
    factor = min(factor, (OSD_MAX_PIXELS / grey.size) ** 0.5)
    if abs(factor - 1) < 0.05:
        copy = grey
    elif factor < 1:
        copy = cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    else:
        copy = cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    _, binary = cv2.threshold(copy, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    found = tesseract.detect_orientation(binary)
    if found is None or found[1] < min_confidence:
        return None
    return found[0]


def _sheet(grey: np.ndarray) -> np.ndarray:
    """The sheet of a scan without the dark scanner bed around it (`page_box`); the whole scan when no bed is
    found, or less of it than `crop_borders` whitens (MIN_BED_SHARE: most scans' outlines miss a row or a
    column of the image, and would cost a second detector run)."""
    small, factor = downscale(grey, ANALYSIS_SIDE)
    box = page_box(small)
    if box is None:
        return grey
    left, top, right, bottom = box
    if (right - left) * (bottom - top) > (1 - MIN_BED_SHARE) * small.size:
        return grey
    return grey[round(top * factor):round(bottom * factor), round(left * factor):round(right * factor)]


def turn_image(image: np.ndarray, turn: int) -> np.ndarray:
    """Turn counter-clockwise by a multiple of 90 degrees (lossless)."""
    quarter = (turn // 90) % 4
    return np.ascontiguousarray(np.rot90(image, quarter)) if quarter else image
