"""Two-page spreads: a book or register photographed open shows two pages on one image. Split it at the fold.

A spread is wider than high, carries text on both halves, and has a fold near the middle: a band with no
ink (the two inner margins) or a dark shadow line where the paper curves into the binding. A single wide
page with two columns also has an empty band in the middle, so the band must be wider than a column gap
(the two inner margins together) and the halves must each look like a page: portrait-shaped.
A single page lying on its side is landscape-shaped too, and the gap between two of its paragraphs is such a
band: a page whose text lines run vertically is not a spread (12 of the 60 corpus pages turned sideways were
taken for spreads before this check, none after). A spread lying on its side (a register photographed with the
camera turned) is portrait-shaped, its two pages one above the other and their lines running down the image: it
is turned a quarter, and split as any spread; each page is then turned upright by the cleanup, and a spread
that the quarter turn left upside down has its pages put back in order as one scanned so (pagework).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ...profiles import SplitSpreadsSettings
from .geometry import page_box
from .measure import downscale, ink_mask, remembered, text_height
from .orientation import is_sideways, turn_image
from .work import to_grey

ANALYSIS_SIDE = 1200  # px, longer side
MIN_ASPECT = 1.15  # width / height of a spread, at least (two portrait pages side by side)
MAX_ASPECT = 2.0
MIDDLE = (0.4, 0.6)  # the fold is looked for in this part of the width
MIN_GUTTER = 0.025  # share of the width: an empty band narrower than this is a column gap, not a fold
GUTTER_LETTERS = 7  # letter heights: a band this wide and empty is a fold beyond doubt (see clear_fold)
MIN_SIDE_INK = 0.02  # share of a half's pixels that must be ink: a page, not a blank flap
PAPER_INSET = 0.015  # share of each side the pages' box is shrunk by, so the bed's edge stays outside


@dataclass(frozen=True)
class _Fold:
    x: int  # in the image's pixels
    shadow: bool  # found as the binding's dark line
    band: tuple[int, int] = (0, 0)  # else: the empty band's columns in the measuring copy of the pages ...
    copy: np.ndarray | None = None  # ... that copy (grey) ...
    ink: np.ndarray | None = None  # ... and its ink
    turned: bool = False  # found on the image turned a quarter counter-clockwise (a spread lying on its side)


def find_fold(image: np.ndarray, settings: SplitSpreadsSettings) -> int | None:
    """The x coordinate of the fold between two pages, or None when the image is not a spread. For a spread
    lying on its side, the x of the fold in the image turned a quarter counter-clockwise."""
    fold = _fold(image, settings)
    return fold.x if fold else None


def clear_fold(image: np.ndarray, settings: SplitSpreadsSettings) -> bool:
    """Whether the image is a spread beyond doubt, as `--profile auto` needs: its fold is the binding's dark line,
    or an empty band at least GUTTER_LETTERS letters wide that no line of text crosses. A landscape page of two
    columns has such a band too, 3-6 letters wide on the pages made to test it, and a heading across it: with
    `auto` it was split into two pages, its title cut in half. But so narrow a band can be a fold, and crossed:
    the magazine spread of the corpus (3.8 letters, its headline across), which `printed-book` splits, as any
    scan an archivist says is of open books or registers."""
    fold = _fold(image, settings)
    if fold is None or fold.shadow:
        return fold is not None
    start, stop = fold.band
    letter = text_height(fold.copy)
    if not letter or stop - start < GUTTER_LETTERS * letter:
        return False
    middle = fold.ink[:, start + (stop - start) // 3: stop - (stop - start) // 3].any(axis=1)
    crossing = _widest_run(middle)
    return crossing is None or crossing[1] - crossing[0] < letter / 2


def _fold(image: np.ndarray, settings: SplitSpreadsSettings) -> _Fold | None:
    """Remembered for the array: `--profile auto` asks for it to choose the profile, then `split_spread`."""
    return remembered(image, ("fold", settings.min_gutter_darkness), lambda: _find_fold(image, settings))


def _find_fold(image: np.ndarray, settings: SplitSpreadsSettings) -> _Fold | None:
    height, width = image.shape[:2]
    if MIN_ASPECT <= width / height <= MAX_ASPECT:
        small, factor = downscale(to_grey(image), ANALYSIS_SIDE)
        return None if is_sideways(small) else _fold_of(small, factor, settings)
    if MIN_ASPECT <= height / width <= MAX_ASPECT:
        small, factor = downscale(to_grey(image), ANALYSIS_SIDE)
        if is_sideways(small):  # two pages one above the other, their lines running down: lying on its side
            fold = _fold_of(turn_image(small, 90), height / small.shape[0], settings)
            return replace(fold, turned=True) if fold else None
    return None


def _fold_of(small: np.ndarray, factor: float, settings: SplitSpreadsSettings) -> _Fold | None:
    """The fold of a landscape copy `small` (`factor` times smaller than the image) whose lines run across it."""
    offset, small = _paper(small)
    if not MIN_ASPECT <= small.shape[1] / small.shape[0] <= MAX_ASPECT:
        return None
    ink = ink_mask(small) > 0
    columns = ink.mean(axis=0)
    lo, hi = int(MIDDLE[0] * len(columns)), int(MIDDLE[1] * len(columns))
    typical = np.percentile(columns[columns > 0], 75) if np.any(columns > 0) else 0
    if typical == 0:
        return None
    empty = columns <= settings.min_gutter_darkness * typical
    x, band = _shadow_line(small, lo, hi), (0, 0)
    if x is not None and not _blank_beside(empty, x, int(MIN_GUTTER * len(columns) / 2)):
        x = None  # a dark line with text right beside it: a table rule or a margin line, not the binding
    shadow = x is not None
    if x is None:
        fold = _widest_run(empty[lo:hi])
        if fold is None or fold[1] - fold[0] < MIN_GUTTER * len(columns):
            return None
        band = (lo + fold[0], lo + fold[1])
        x = (band[0] + band[1]) // 2
    left, right = ink[:, :x], ink[:, x:]
    if left.mean() < MIN_SIDE_INK * 0.5 or right.mean() < MIN_SIDE_INK * 0.5:
        return None
    return _Fold(int(round((offset + x) * factor)), shadow, band, small, ink)


def _paper(small: np.ndarray) -> tuple[int, np.ndarray]:
    """(x offset, the part of the copy that is the pages). A spread photographed on a dark table or scanner
    bed has bed above and below it, and the bed's edge looks like ink in every column: it filled the empty band
    of the fold (no spread on a bed was found before this). The pages' box, a little inset, leaves it out."""
    box = page_box(small)
    if box is None:
        return 0, small
    height, width = small.shape
    dx, dy = int(PAPER_INSET * width), int(PAPER_INSET * height)
    left, right = min(width, box[0] + dx), max(0, box[2] - dx)
    top, bottom = min(height, box[1] + dy), max(0, box[3] - dy)
    if right - left < width // 2 or bottom - top < height // 2:
        return 0, small
    return left, small[top:bottom, left:right]


def _blank_beside(empty: np.ndarray, x: int, reach: int) -> bool:
    """No ink from a few pixels beside column x out to `reach` on both sides (the line itself may be ink)."""
    left, right = empty[max(0, x - reach): max(0, x - 3)], empty[x + 4: x + reach + 1]
    return bool(len(left) and len(right) and left.all() and right.all())


def _widest_run(flags: np.ndarray) -> tuple[int, int] | None:
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts, stops = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    if not len(starts):
        return None
    i = int(np.argmax(stops - starts))
    return int(starts[i]), int(stops[i])


def _shadow_line(small: np.ndarray, lo: int, hi: int) -> int | None:
    """A narrow column much darker than the paper on both sides, running most of the height: the binding."""
    brightness = np.median(small, axis=0).astype(np.float64)
    paper = np.percentile(brightness, 90)
    darkest = lo + int(np.argmin(brightness[lo:hi]))
    if brightness[darkest] > 0.6 * paper:
        return None
    dark_rows = np.mean(small[:, darkest] < 0.7 * paper)
    return darkest if dark_rows > 0.8 else None


def turn_of_spread(image: np.ndarray, settings: SplitSpreadsSettings) -> int:
    """Degrees counter-clockwise `split_spread` turned the spread before cutting it (90 for one lying on its side,
    else 0): its pages' turns are told from the scan's, not the turned spread's."""
    fold = _fold(image, settings)
    return 90 if fold is not None and fold.turned else 0


def split_spread(image: np.ndarray, settings: SplitSpreadsSettings) -> list[np.ndarray]:
    """[left page, right page] of a spread, in reading order; [image] when it is a single page."""
    fold = _fold(image, settings)
    if fold is None:
        return [image]
    pages = turn_image(image, 90) if fold.turned else image
    return [np.ascontiguousarray(pages[:, :fold.x]), np.ascontiguousarray(pages[:, fold.x:])]
