"""`--profile auto`: pick a cleanup profile for each page from a few image statistics (a small copy, ~50 ms).

  - photocopy: already black and white: almost no pixel between ink and paper grey, no colour;
  - printed-book: a two-page spread beyond doubt (spreads.clear_fold);
  - newspaper: three or more text columns separated by empty bands;
  - handwritten-mixed: much of the ink is in long joined strokes (cursive words), not in separate letters;
  - default otherwise (typewritten and printed pages).
Only profiles that exist among the candidates are picked; anything else falls back to `default`.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...profiles import CleanProfile, SplitSpreadsSettings
from ..load import only_black_and_white
from .measure import downscale, ink_mask, marks_of
from .orientation import is_sideways
from .spreads import clear_fold
from .work import to_grey

ANALYSIS_SIDE = 1000
BILEVEL_MAX_GREY = 0.02  # share of pixels in mid grey on a photocopy, at most
COLOUR_SATURATION = 40  # median saturation above this: a colour scan (aged paper), not a photocopy
MIN_COLUMNS_NEWSPAPER = 3
CURSIVE_SHARE = 0.45  # share of ink in joined strokes from which a page counts as handwritten


def choose_profile(image: np.ndarray, auto: CleanProfile) -> CleanProfile:
    """The candidate profile of `auto` that fits this page best (`auto` itself when it has none)."""
    by_name = {c.name: c for c in auto.candidates}
    if not by_name:
        return auto
    name = kind_of_page(image)
    return by_name.get(name) or by_name.get("default") or auto.candidates[0]


def kind_of_page(image: np.ndarray) -> str:
    small, _ = downscale(image, ANALYSIS_SIDE)
    grey = to_grey(small)
    # A black-and-white scan judged on its own pixels too: on the area-averaged copy its letters' edges are grey
    # (3.9 % of a 300 dpi page's pixels, over BILEVEL_MAX_GREY), and no such scan over ANALYSIS_SIDE px was taken
    # for the photocopy it is.
    if _looks_bilevel(small, grey) or (image.ndim == 2 and only_black_and_white(image)):
        return "photocopy"
    if clear_fold(image, SplitSpreadsSettings()):
        return "printed-book"
    if is_sideways(grey):  # its lines would be counted as columns: 12 of the corpus's 30 pages turned a quarter
        grey = np.ascontiguousarray(np.rot90(grey))  # were taken for newspapers, and read worse so
    ink = ink_mask(grey)
    if _column_count(ink) >= MIN_COLUMNS_NEWSPAPER:
        return "newspaper"
    if _cursive_share(ink) >= CURSIVE_SHARE:
        return "handwritten-mixed"
    return "default"


def _looks_bilevel(small: np.ndarray, grey: np.ndarray) -> bool:
    if small.ndim == 3:
        saturation = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)[:, :, 1]
        if np.median(saturation) > COLOUR_SATURATION:
            return False
    mid = np.count_nonzero((grey > 60) & (grey < 190))
    return mid / grey.size <= BILEVEL_MAX_GREY


def _column_count(ink: np.ndarray) -> int:
    """Text columns: runs of well-inked pixel columns in the page's middle, each at least 8 % of its width,
    separated by empty bands of at least 1.5 % (narrower gaps are between words, not columns)."""
    height, width = ink.shape
    body = ink[height // 10: height - height // 10, width // 20: width - width // 20] > 0
    inked = body.mean(axis=0) > 0.05
    edges = np.diff(np.concatenate([[0], inked.astype(np.int8), [0]]))
    starts, stops = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    gap = 0.015 * body.shape[1]
    runs: list[list[int]] = []
    for start, stop in zip(starts, stops):
        if runs and start - runs[-1][1] < gap:
            runs[-1][1] = stop  # a word gap: the same column goes on
        else:
            runs.append([start, stop])
    return sum(1 for start, stop in runs if stop - start >= 0.08 * body.shape[1])


def _cursive_share(ink: np.ndarray) -> float:
    """Share of letter-height ink that sits in marks at least four times as wide as high (joined writing)."""
    count, _, stats, _ = marks_of(ink)
    heights, widths = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
    letters = (heights >= 4) & (heights <= ink.shape[0] / 20)
    total = areas[letters].sum()
    if total == 0:
        return 0.0
    joined = letters & (widths >= 4 * heights) & (widths <= ink.shape[1] / 4)
    return float(areas[joined].sum() / total)
