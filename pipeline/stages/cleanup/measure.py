"""Measurements shared by the cleanup steps, all taken on small copies of the page."""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

import cv2
import numpy as np

TEXT_HEIGHT_SIDE = 2000  # px, longer side of the copy letters are measured on
MAX_LETTER_SAMPLES = 40_000  # enough pixels for a stable profile, few enough to be fast
# Marks of 1-2 px per megapixel of the measuring copy (its own ink mask) from which letters are measured through
# a median; clean corpus scans have at most 8100. Whether a page is speckled enough to clean is specks.py's call.
MEASURE_THROUGH_SPECKS_FROM = 15_000
DARK_CORE = 0.5  # share of the page's strong ink contrast a pixel reaches to count as dark (not show-through)
REMEMBER_MAX_SIDE = TEXT_HEIGHT_SIDE  # px: larger copies are not remembered (memory)
PAGE_LETTER_SHARE = 1 / 25  # of a page's longer side: the tallest a letter may be (see tallest_letter)
STRIP_ASPECT = 2.0  # a long side more than this many times the short one: a strip cut from a page
STRIP_LETTER_SHARE = 1 / 5  # of a strip's short side: the tallest its letters may be
MARKED_BAND_ROWS = 64  # rows of labels looked up at once (see marked)
INK_CONTRAST = 15  # grey levels a pixel is darker than its surroundings to count as ink (see ink_mask)
FAINT_INK_SHARE = 0.01  # less of a page than this so found: it may be faint (real pages: 0.037 and more)
FAINT_CONTRAST_SHARE = 0.25  # of a faint page's contrast: how much darker ink is than its surroundings
MIN_INK_CONTRAST = 3  # grey levels: below this, JPEG noise would pass for ink


class _Remembered:
    """What was computed from the page's arrays, kept while those arrays live. Several steps measure the same
    array the same way (orientation and deskew its letters; page outline, punched holes and background its
    small copy), and on a big scan that costs more than their own work. Entries are found by the array's
    identity (steps never change an array in place: see work.Work) through weak references, so they keep no
    page in memory; `forget_page` drops them all."""

    LIMIT = 8
    entries: ClassVar[list[tuple[weakref.ref, tuple, Any]]] = []

    @classmethod
    def get(cls, image: np.ndarray, key: tuple) -> Any:
        return next((value for ref, k, value in cls.entries if k == key and ref() is image), None)

    @classmethod
    def put(cls, image: np.ndarray, key: tuple, value: Any) -> Any:
        cls.entries.insert(0, (weakref.ref(image), key, value))
        del cls.entries[cls.LIMIT:]
        return value


def forget_page() -> None:
    _Remembered.entries.clear()


def remembered(image: np.ndarray, key: tuple, compute: Callable[[], Any]) -> Any:
    """`compute()`, or what it gave for the same `image` array and `key` before (None included)."""
    if (kept := _Remembered.get(image, key)) is not None:
        return kept[0]
    return _Remembered.put(image, key, (compute(),))[0]


def downscale(image: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """A copy whose longer side is at most `long_side`, and the factor back to full size (>= 1). The copy is
    shared by every step that asks for it, so it is read-only.

    The copy is an exact area average. Averaging by whole blocks first is 5-10 times faster (`shrink_by`), but
    its copies differ a little, and Tesseract's readings move with every measurement taken on them: a Fraktur
    page turned on its side no longer showed its lines running sideways when measured on half the page, and
    the orientation detector left an upside-down page on its head after its skew moved by 0.02° (both
    bench/orientation.py; bench/RESULTS.md, ninth session)."""
    factor = max(image.shape[:2]) / long_side
    if factor <= 1:
        return image, 1.0
    if (remembered := _Remembered.get(image, ("downscale", long_side))) is not None:
        return remembered
    size = _copy_size(image, long_side)
    # Averaging every pixel of a 50 MP scan costs more than the measurement itself: skip rows and columns
    # down to about twice the target size first (a measurement needs no anti-aliasing beyond that).
    stride = int(factor // 2)
    source = image[::stride, ::stride] if stride > 1 else image
    small = cv2.resize(source, size, interpolation=cv2.INTER_AREA)
    small.flags.writeable = False
    if long_side > REMEMBER_MAX_SIDE:  # a near full-size copy: kept by nobody but its caller
        return small, image.shape[1] / size[0]
    return _Remembered.put(image, ("downscale", long_side), (small, image.shape[1] / size[0]))


def shrink_by(image: np.ndarray, factor: int) -> np.ndarray:
    """`image` made `factor` (a whole number) times smaller by averaging blocks of factor x factor pixels, grey
    or colour. On whole blocks OpenCV's area averaging takes its fast path: 2-5 ms for an 8 MP page on one
    core, against 25-40 ms for a fractional factor (or for a strided view, which it first copies). The last
    row and column of blocks, cut short by the page's edge, are averaged over the pixels they have: a scanner
    bed's dark strip along the edge stays in the copy. No copy of the page is made."""
    factor = min(factor, *image.shape[:2])
    if factor <= 1:
        return image
    height, width = image.shape[:2]
    rows, columns = height - height % factor, width - width % factor
    small = cv2.resize(image[:rows, :columns], (columns // factor, rows // factor), interpolation=cv2.INTER_AREA)
    if columns < width:
        right = _block_means(image[:rows, columns:], factor, across=False)
        small = np.concatenate([small, right[:, None]], axis=1)
    if rows < height:
        bottom = _block_means(image[rows:, :columns], factor, across=True)
        if columns < width:
            corner = np.rint(image[rows:, columns:].mean(axis=(0, 1), keepdims=True)[0]).astype(image.dtype)
            bottom = np.concatenate([bottom, corner])
        small = np.concatenate([small, bottom[None]], axis=0)
    return small


def _block_means(strip: np.ndarray, factor: int, across: bool) -> np.ndarray:
    """The means of a strip's blocks of `factor` pixels along it (rows of a bottom strip when `across`, else
    columns of a right-hand one), over the strip's whole width (its height), rounded to the image's type."""
    if across:  # a bottom strip: (few rows, columns, ...) -> blocks along the columns
        blocks = strip.reshape(strip.shape[0], strip.shape[1] // factor, factor, *strip.shape[2:])
        means = blocks.mean(axis=(0, 2))
    else:  # a right-hand strip: (rows, few columns, ...) -> blocks along the rows
        blocks = strip.reshape(strip.shape[0] // factor, factor, strip.shape[1], *strip.shape[2:])
        means = blocks.mean(axis=(1, 2))
    return np.rint(means).astype(strip.dtype)


def percentile_of_bytes(values: np.ndarray, q: float) -> float:
    """`np.percentile(values, q)` of uint8 values (or `np.median` for q=50), to the last bit, from their
    histogram. NumPy sorts a copy first (partitions it): 40-60 ms for a 1200 px measuring copy on one core,
    against 2 ms for OpenCV's histogram."""
    if values.dtype != np.uint8 or values.size == 0:
        raise ValueError(f"expected a non-empty uint8 array, got {values.dtype} {values.shape}")
    flat = np.ascontiguousarray(values).reshape(-1, 1)
    if flat.shape[0] < 2**24:  # OpenCV counts in float32: exact below 2**24
        counts = cv2.calcHist([flat], [0], None, [256], [0, 256]).ravel().astype(np.int64)
    else:
        counts = np.bincount(flat.ravel(), minlength=256)
    return _mixed(*_values_at_ranks(counts, q))


def _mixed(low: int, high: int, share: float) -> float:
    """The value `share` of the way from `low` to `high`, as NumPy's `_lerp` mixes them."""
    step = high - low
    return float(high - step * (1 - share)) if share >= 0.5 else float(low + step * share)


def _values_at_ranks(counts: np.ndarray, q: float) -> tuple[int, int, float]:
    """(the values at ranks floor and ceil of (n - 1) q / 100, the share of the way from the one to the other)
    of whole-number values given by how many there are of each (`counts[v]` of the value v): NumPy's "linear"
    percentile, restated, once `_mixed` mixes them as its `_lerp` does."""
    cumulative = np.cumsum(counts)
    total = int(cumulative[-1])
    rank = (total - 1) * (q / 100)
    below = int(np.floor(rank))
    low = int(np.searchsorted(cumulative, below, side="right"))
    high = int(np.searchsorted(cumulative, min(below + 1, total - 1), side="right"))
    return low, high, rank - below


def remember_copy(image: np.ndarray, long_side: int, small: np.ndarray) -> None:
    """Let `small` stand for `downscale(image, long_side)`: a step that made `image` by turning an array it
    already had a copy of can turn that copy instead (1 ms against 25-40 ms for a fresh copy of a 9 MP scan)."""
    if max(image.shape[:2]) <= long_side or small.shape[:2] != _copy_size(image, long_side)[::-1]:
        return
    small.flags.writeable = False
    _Remembered.put(image, ("downscale", long_side), (small, image.shape[1] / small.shape[1]))


def _copy_size(image: np.ndarray, long_side: int) -> tuple[int, int]:
    factor = max(image.shape[:2]) / long_side
    return max(1, round(image.shape[1] / factor)), max(1, round(image.shape[0] / factor))


def letters_of_page(grey: np.ndarray, long_side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(small copy, ys, xs): `letter_mask` of `grey` downscaled to `long_side`, remembered for the next call
    on the same array."""
    if (remembered := _Remembered.get(grey, ("letters", long_side))) is not None:
        return remembered
    small, _ = downscale(grey, long_side)
    ys, xs = letter_mask(small)
    return _Remembered.put(grey, ("letters", long_side), (small, ys, xs))


def marks_of(binary: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """OpenCV's connectedComponentsWithStats of a black (0) and white image, 8-connected: (count, labels, stats,
    centroids). Grana's block-based labelling gives the same labels, stats and centroids as OpenCV's default
    and is a third faster on these images (24 measuring copies of corpus pages, one core: 317 -> 213 ms)."""
    return cv2.connectedComponentsWithStatsWithAlgorithm(binary, 8, cv2.CV_32S, cv2.CCL_GRANA)


def letter_mask(small: np.ndarray, stride_limit: int | None = MAX_LETTER_SAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (ys, xs as float64, as `line_sharpness` projects them) of pixels of letter-sized marks.

    A local threshold ignores uneven lighting and keeps only the edges of large dark areas (scanner bed);
    dropping tall marks (page edges, vertical rules, stamps, photos) leaves the letters, whose rows
    carry the text lines. With `stride_limit`, a regular sample of at most about that many pixels.
    """
    _, letters = _letters(small)
    # OpenCV lists the pixels in NumPy's order (row by row), three times as fast as np.nonzero.
    found = cv2.findNonZero(letters.view(np.uint8))
    points = found.reshape(-1, 2) if found is not None else np.zeros((0, 2), np.int32)
    ys, xs = points[:, 1], points[:, 0]
    stride = max(1, len(ys) // stride_limit) if stride_limit else 1
    return ys[::stride].astype(np.float64), xs[::stride].astype(np.float64)


def letter_pixels(small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(letters, dark): where the pixels of letter-sized marks are (`letter_mask`'s, as a mask), and which of
    them are dark (`_dark_pixels`), so not the reverse side's letters showing through."""
    ink, letters = _letters(small)
    return letters, letters & _dark_pixels(small, ink)


def _letters(small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(`ink_mask`, where its letter-sized marks are), remembered for the copy: the sideways test and the
    up-and-down cues measure the same copy of a page that is not straightened (4 ms a 1200 px copy)."""
    return remembered(small, ("letters mask",), lambda: _find_letters(small))


def _find_letters(small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ink = ink_mask(small)
    count, labels, stats, _ = marks_of(ink)
    heights, areas = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    letter_like = (heights <= tallest_letter(small.shape)) & (areas >= 3)
    letter_like[0] = False  # label 0 is the background
    return ink, marked(letter_like, labels)


def marked(flags: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """`flags[labels]`: each pixel gets its mark's flag. Taken in bands of rows: NumPy first copies the labels
    into 8-byte indices, and a whole page's copy (8 MB for a 1200 px copy, 280 MB for a 600 dpi A4 page) cost more
    than the lookup, in a fresh process most (new memory: 6-25 ms more for the first 1200 px copy on the
    benchmark machine). In bands the lookup takes 0.9 ms for a 1200 px copy, against 1.3-3 ms at once."""
    out = np.empty(labels.shape, dtype=flags.dtype)
    for top in range(0, labels.shape[0], MARKED_BAND_ROWS):
        np.take(flags, labels[top:top + MARKED_BAND_ROWS], out=out[top:top + MARKED_BAND_ROWS])
    return out


def tallest_letter(shape: tuple[int, ...]) -> float:
    """The height in px above which a mark of an image of `shape` counts as no letter: on a page, a 25th of its
    longer side (the letters of large headings stay under it; page edges, rules, stamps and photos do not).
    A strip cut from a page (a snippet of a few lines: its long side over STRIP_ASPECT times its short one)
    has letters that are a good share of its short side, and they may reach STRIP_LETTER_SHARE of it. Against
    its long side, the letters of a four-line Fraktur snippet of 1381 x 368 px (DIBCO 2011 PR1) were too tall
    to count; on the snippet faded, the marks left (letters' fragments, the reverse side's specks) lined up
    in columns, and it was turned on its side and read as nothing (CER 0.989; upright now, 0.511)."""
    long, short = max(shape[:2]), min(shape[:2])
    if long > STRIP_ASPECT * short:
        return max(long * PAGE_LETTER_SHARE, short * STRIP_LETTER_SHARE)
    return long * PAGE_LETTER_SHARE


def ink_mask(small: np.ndarray) -> np.ndarray:
    """255 where a pixel is clearly darker than its surroundings (a local mean threshold), else 0.

    Clearly: by INK_CONTRAST grey levels, or on a faint page (letters 15 levels darker than the paper, a faded
    carbon copy or a scan far too light) by a share of its contrast. There the usual bar keeps only specks of
    JPEG noise, which pass for 4-5 px letters (a page so measured was enlarged 4x for Tesseract: 3x its OCR
    time). The page's contrast (its paper against its darkest thousandth) is taken only when the usual bar
    finds little ink: a histogram costs as much as the threshold itself."""
    block = _block(small)
    ink = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, INK_CONTRAST)
    if cv2.countNonZero(ink) >= FAINT_INK_SHARE * small.size:
        return ink
    contrast = percentile_of_bytes(small, 90) - percentile_of_bytes(small, 0.1)
    bar = max(MIN_INK_CONTRAST, FAINT_CONTRAST_SHARE * contrast)
    if bar >= INK_CONTRAST:
        return ink
    return cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, bar)


def _block(small: np.ndarray) -> int:
    return max(15, max(small.shape) // 40) | 1


def _dark_pixels(small: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Where a pixel stands out from its surroundings by at least DARK_CORE of the page's strong ink (the 90th
    percentile of the contrast of `ink`'s pixels). The reverse side's letters seen through thin paper are grey
    only, also where they touch the print's letters. So are a faded page's letters, but its strong ink is
    faint as well."""
    surroundings = cv2.blur(small, (_block(small),) * 2)
    if not cv2.countNonZero(ink):
        return np.zeros(small.shape, dtype=bool)
    # The percentile from a histogram of the contrast (OpenCV's, counting only where `ink` is set), as
    # np.percentile gives it: 1.3 against 2.5 ms on a 1200 px copy. Contrast below 0 (a pixel lighter than its
    # surroundings) is counted as 0; that changes no rank above it, so the percentile is exact when the value it
    # lies on is above 0, and otherwise taken again from the signed contrast.
    contrast = cv2.subtract(surroundings, small)
    counts = cv2.calcHist([contrast], [0], ink, [256], [0, 256]).ravel().astype(np.int64)
    low, high, share = _values_at_ranks(counts, 90)
    if low > 0:
        return contrast >= math.ceil(DARK_CORE * _mixed(low, high, share))  # whole numbers
    signed = surroundings.astype(np.int16) - small
    return signed >= DARK_CORE * np.percentile(signed[ink > 0], 90)


def line_sharpness(ys: np.ndarray, xs: np.ndarray, angle: float) -> float:
    """How crisp the horizontal projection is after undoing `angle`: squared jumps between adjacent rows."""
    # Counted in whole numbers: the same sum as in floats (every partial sum is an integer far below 2**53).
    jumps = np.diff(projection(ys, xs, angle))
    return float(np.dot(jumps, jumps))


def projection(ys: np.ndarray, xs: np.ndarray, angle: float) -> np.ndarray:
    """How many of the pixels at (ys, xs) fall in each row once `angle` is undone (a whole-number count per row)."""
    theta = np.deg2rad(angle)
    rows = ys * np.cos(theta)  # float64, as the pixels' coordinates are (letter_mask): no copies per angle
    rows += xs * np.sin(theta)
    rows -= rows.min()
    return np.bincount(rows.astype(np.intp))


def text_height(grey: np.ndarray) -> int | None:
    """The most common height of letters in px, at the image's own scale; None on a page without text.

    Heights are weighted by ink, so specks of dust and noise (many, but small) do not outvote the letters.
    It lies between the x-height and the height of capitals: ~22 px for 10-12 pt type at 300 dpi.
    Big pages are measured on a copy reduced to about 2000 px, where letters are still 10 px or more."""
    return _ink_quantile_height(grey, 0.5)


def small_text_height(grey: np.ndarray) -> int | None:
    """The height of the page's small letters in px: the tenth of the ink in the smallest letters (footnotes,
    stamps' small print, a form's filled-in lines beside its large printed headings)."""
    return _ink_quantile_height(grey, 0.1)


def _ink_quantile_height(grey: np.ndarray, share: float) -> int | None:
    small, factor = remembered(grey, ("letters copy",), lambda: _letters_copy(grey))
    height = _ink_quantile(small, share)
    return round(height * factor) if height else None


def _letters_copy(grey: np.ndarray) -> tuple[np.ndarray, float]:
    """The copy letters are measured on, and the factor back to full size: a page of at least 1.5 times
    TEXT_HEIGHT_SIDE averaged by whole blocks to about that size (between 0.75 and 1.25 times it), a smaller
    one averaged exactly to it (`downscale`). OpenCV's area average by a fractional factor took 15 ms of an A4
    page at 300 dpi, by whole blocks 0.5 ms. Unlike the copies that orientation and skew are measured on, this
    one does not say where the page's lines lie, only how large its letters are (for the resize, the median and
    thresholds, the holes, the detector's copy). They measure a pixel or two apart on the two copies, as far
    from the height measured on the whole page either way, and readings moved only where that crossed the bar
    of a resize (2 of 31 corpus pages; bench/RESULTS.md, twenty-seventh session)."""
    blocks = round(max(grey.shape) / TEXT_HEIGHT_SIDE)
    if blocks < 2:
        return downscale(grey, TEXT_HEIGHT_SIDE)
    small = shrink_by(grey, blocks)
    return small, grey.shape[1] / small.shape[1]


def _ink_quantile(grey: np.ndarray, share: float) -> int | None:
    # A page's letters and its small letters are measured on the same marks: found once.
    letters = remembered(grey, ("letter marks",), lambda: _letter_marks(grey))
    if letters is None:
        return None
    heights, areas = letters
    return int(ink_weighted_height(heights, areas, share))


def _letter_marks(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(heights, areas) of the letter-sized marks of `grey`; None when there are too few to measure."""
    stats = marks_of(_ink_of(grey))[2][1:]
    if np.count_nonzero(stats[:, cv2.CC_STAT_AREA] <= 2) > MEASURE_THROUGH_SPECKS_FROM * grey.size / 1e6:
        # Salt-and-pepper noise: the specks merge into 3-5 px marks and break the letters into pieces, and
        # their ink outweighs the letters' (10 % of the pixels flipped: 60 px letters measured 18, 25 px 8;
        # a page so mismeasured was enlarged 4x and stalled Tesseract). Two 3 px medians remove the specks
        # and keep the letters: those pages measure 60 and 23. A 5 px one thins small print (23 px -> 9).
        stats = _mark_stats(cv2.medianBlur(cv2.medianBlur(grey, 3), 3))
    heights, widths = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    areas = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    letters = (heights >= 3) & (heights <= max(grey.shape) / 20) & (widths >= 2) & (widths <= 4 * heights)
    if letters.sum() < 30:
        return None
    return heights[letters], areas[letters]


def ink_share(grey: np.ndarray) -> float:
    """The share of the page its ink covers, measured on the copy its letters are measured on."""
    small, _ = remembered(grey, ("letters copy",), lambda: _letters_copy(grey))
    return cv2.countNonZero(_ink_of(small)) / small.size


def _ink_of(small: np.ndarray) -> np.ndarray:
    """`ink_mask` of a measuring copy, once for its letters and its ink share."""
    return remembered(small, ("ink mask",), lambda: ink_mask(small))


def _mark_stats(grey: np.ndarray) -> np.ndarray:
    """`marks_of`'s stats rows for the marks of `ink_mask` (the background's row left out)."""
    return marks_of(ink_mask(grey))[2][1:]


def ink_weighted_height(heights: np.ndarray, areas: np.ndarray, share: float) -> int:
    """The height below which marks hold `share` of the ink (0.5: the ink-weighted median). Weighted by ink,
    the median is steadier than the most common height, which jumps between the x-height and the height of
    capitals when a page is resampled or straightened."""
    order = np.argsort(heights)
    cumulative = np.cumsum(areas[order])
    return int(heights[order][np.searchsorted(cumulative, cumulative[-1] * share)])
