"""Photometric cleanup, on the OCR image only: flatten the lighting and paper tint, denoise, binarize.

Binarizing is where cleanup can lose. Tesseract's LSTM recognizer reads text lines from the grey image
when it has one (its own thresholding only serves the layout analysis), so soft strokes (a typewriter's
worn ribbon, a low-resolution or slightly blurred scan) are read best from grey: a threshold of ours
would cut their grey rims to ragged outlines. Crisp strokes lose nothing to a threshold, and on them
binarizing removes what noise, stains, ink loss and bleed-through left after flattening.
`method: auto` decides per page from the flattened image: where the grey rim around the strokes is wider
than their dark core, the strokes are soft and Tesseract gets the flattened grey (the "gentle" path,
without denoising); otherwise the page is denoised and binarized (Otsu on the flattened image).
Measured on the development corpus: grey wins on 100-150 dpi and worn typewriter scans by up to 3x, the
threshold wins on crisp but noisy print by up to 10x.
"""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np

from ...profiles import (
    BinarizeSettings,
    DenoiseSettings,
    NormalizeIlluminationSettings,
    ShowThroughSettings,
)
from .measure import downscale, marked, percentile_of_bytes, shrink_by
from .work import Work

ANALYSIS_SIDE = 1000  # px, longer side: the background needs little detail
SAUVOLA_BAND_ROWS = 512  # Sauvola runs in row bands: float copies of a whole huge page would not fit
SOFTNESS_BAND_ROWS = 1024  # the stroke measure runs in row bands: a huge page's masks need not exist at once
SOFT_RIM_RATIO = 1.1  # rim pixels per core pixel from which strokes count as soft
MIN_INK_PIXELS = 500
CLEAN_PAPER_LEVEL = 235  # median paper grey of an already clean scan, at least
CLEAN_MAX_TINT = 60  # median saturation of its paper, at most: yellowed paper reads as well as white (measured:
# three yellowed but even pages of the dev corpus read better as scanned), strongly coloured paper does not
CLEAN_MAX_LIGHT_RANGE = 12  # spread of its background brightness across the page, at most
# grey levels: the paper of the OCR image's flattening copy measures at most 1 level under already_clean's own
# sample of the scan (487 pages: the corpus, its edge images and scan variants); a margin of three times that
DARK_PAPER_MARGIN = 3
PAPER_LEVEL = 215  # flattened paper is ~255; lighter than this is paper, bleed-through or stain
INK_LEVEL = 110  # darker than this is the core of a stroke
NEAR_CORE_PX = 3  # px at 300 dpi: a faint mark this close to ink is a piece of a letter


def normalize_illumination(work: Work, settings: NormalizeIlluminationSettings) -> Work:
    """Divide by the paper's own brightness so shadows, uneven light and tinted paper all become white."""
    small, _ = downscale(work.ocr, ANALYSIS_SIDE)
    size = max(3, int(settings.kernel_fraction * max(small.shape))) | 1
    # Closing (max then min filter) wider than any stroke replaces the ink by the paper around it.
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
    background = cv2.blur(_bed_as_paper(background, size, work.bed), (size, size))
    background = cv2.resize(background, work.ocr.shape[::-1], interpolation=cv2.INTER_LINEAR)
    flat = cv2.divide(work.ocr, cv2.max(background, 1), scale=255)  # OpenCV's max: 0.6 ms for 8 MP, NumPy's 2.7
    return replace(work, ocr=flat)


def _bed_as_paper(closed: np.ndarray, size: int, bed: np.ndarray | None) -> np.ndarray:
    """The closed copy `closed` with the whitened scanner bed (`bed`, Work.bed) given the brightness of the paper
    at the sheet's edge: the darkest within the kernel (`size`) around each of its pixels. Averaged in as white,
    the bed made the paper along the sheet's edge measure brighter than it was, and the flattening left dim paper
    dark there, in a band half a kernel wide: on DIBCO 2011 PR2 laid on a bed, 142-199 grey, which joined the
    reverse side's show-through to the letters, and the page read 0.721 against 0.249 alone (0.264 now). The
    darkest rather than an average over the sheet alone: 0.6-1.3 ms more a page against 2-5 (bench/RESULTS.md)."""
    if bed is None:
        return closed
    on_bed = cv2.resize(bed, closed.shape[::-1], interpolation=cv2.INTER_NEAREST)
    filled = closed.copy()
    cv2.copyTo(cv2.erode(closed, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))), on_bed, filled)
    return filled


def reduce_show_through(work: Work, settings: ShowThroughSettings) -> Work | None:
    """Whiten show-through (the reverse side's text seen through thin paper) on the flattened page
    (`whiten_show_through`). Measured (flattened, then median and Otsu as the default path then did): DIBCO
    2011 PR2 (Fraktur, strong show-through) F-measure 0.795 -> 0.864 against its ground truth, PR1 0.939 ->
    0.946. As a step it is on in `printed-book` only: on faint or faded typescript the page's "typical ink" is
    light too and whole letters lose their core (bench/RESULTS.md). The default profile whitens show-through
    only for a second reading of a page that read poorly, and keeps the better reading (stages.show_through).
    """
    cleaned = whiten_show_through(work.ocr, settings.min_share, max(1, round(NEAR_CORE_PX * work.dpi_scale)))
    return None if cleaned is None else replace(work, ocr=cleaned)


def whiten_show_through(flat: np.ndarray, min_share: float, reach: int) -> np.ndarray | None:
    """`flat` (a flattened grey page: paper ~255) with its show-through whitened; None when it shows none.

    Hysteresis: a mark (a connected run of pixels darker than paper) is kept when it has an ink core, a pixel
    as dark as the page's typical ink (the mean of the darker class when the non-paper pixels are split in
    two, Otsu's way), or lies within `reach` px of one: a piece of a letter that lost ink stays with it.
    Show-through is only ever grey, so its marks have no core. Acts only when such coreless marks are a
    real share of the page's non-paper pixels (`min_share`), not on a few faint specks.
    """
    marks = flat < PAPER_LEVEL
    values = flat[marks]
    if values.size < MIN_INK_PIXELS:
        return None
    split, _ = cv2.threshold(values.reshape(1, -1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    darker = values[values <= split]
    if darker.size == 0:
        return None
    core_level = float(darker.mean())
    count, labels = cv2.connectedComponents(marks.astype(np.uint8), connectivity=8)
    cored = np.zeros(count, dtype=bool)
    near_core = cv2.dilate((flat <= core_level).astype(np.uint8), np.ones((2 * reach + 1,) * 2, np.uint8))
    cored[np.unique(labels[near_core > 0])] = True
    cored[0] = True  # the paper itself
    faint = marked(~cored, labels)
    if np.count_nonzero(faint) < min_share * values.size:
        return None
    cleaned = flat.copy()
    cleaned[faint] = 255
    return cleaned


def paper_clearly_dark(grey: np.ndarray) -> bool:
    """Whether the OCR image's paper is clearly too dark for `already_clean` to pass the page: its first test
    (paper level), taken on the copy `normalize_illumination` works on (made once, for both). The scan's own
    sample that `already_clean` takes is of the colour image: on an A4 page at 300 dpi, 9 ms of a cleanup of
    150-190 ms, spent in vain on every page that is not clean. The flattening copy's paper measures as bright
    or brighter (bed strips whitened, corners filled with paper), and at most a level darker: DARK_PAPER_MARGIN
    keeps every verdict as it was."""
    _, level = _paper(downscale(grey, ANALYSIS_SIDE)[0])
    return level < CLEAN_PAPER_LEVEL - DARK_PAPER_MARGIN


def already_clean(image: np.ndarray) -> bool:
    """Whether a scan is already clean: bright, evenly lit paper, white or yellowed (not strongly coloured).
    Such a page (if also upright, straight, borderless and of the right letter size) gains nothing from
    cleanup, and Tesseract reads the page as scanned: every change, even a harmless one, moves its layout
    analysis a little."""
    small = _sample(image, ANALYSIS_SIDE)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY) if small.ndim == 3 else small
    paper, level = _paper(grey)
    if level < CLEAN_PAPER_LEVEL:
        return False
    if small.ndim == 3:
        saturation = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)[:, :, 1]
        if percentile_of_bytes(saturation[paper], 50) > CLEAN_MAX_TINT:
            return False
    size = max(3, max(grey.shape) // 40) | 1
    background = cv2.blur(cv2.morphologyEx(grey, cv2.MORPH_CLOSE, np.ones((size, size), np.uint8)), (size, size))
    inner = background[size:-size, size:-size]
    return inner.size > 0 and percentile_of_bytes(inner, 95) - percentile_of_bytes(inner, 5) <= CLEAN_MAX_LIGHT_RANGE


# A page whose every part, averaged over 4x4 px blocks, lies within this many grey levels of every other holds
# nothing but the paper's grain (a blank back of a sheet): letters, even faint ones, leave more.
BLANK_MAX_SPREAD = 3


def is_blank(grey: np.ndarray) -> bool:
    """Whether a page is blank paper. Read as it is, its grain, which Tesseract's own threshold splits into black
    and white specks, held Tesseract for nearly a minute (a blank back scanned in 16 bits)."""
    small = shrink_by(grey, 4)
    return percentile_of_bytes(small, 99.9) - percentile_of_bytes(small, 0.1) < BLANK_MAX_SPREAD


def _paper(grey: np.ndarray) -> tuple[np.ndarray, float]:
    """(where the paper is, its median grey): the pixels above Otsu's threshold; level 0 where there are none."""
    threshold, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    paper = grey > threshold
    return paper, percentile_of_bytes(grey[paper], 50) if paper.any() else 0.0


def _sample(image: np.ndarray, long_side: int) -> np.ndarray:
    """A copy of roughly `long_side` px (0.67 to 1.5 times it) for medians and percentiles, averaged by a whole
    factor (`shrink_by`: 3 ms for a colour A4 page at 300 dpi, where a strided copy cost 20 ms). `already_clean`
    gives the same verdicts on it as on the strided copy it replaced (46 corpus, test and sample images)."""
    return shrink_by(image, sample_factor(image.shape, long_side))


def sample_factor(shape: tuple[int, ...], long_side: int = ANALYSIS_SIDE) -> int:
    """The whole factor `_sample` averages an image of `shape` by (`already_clean`'s, by default)."""
    return max(1, round(max(shape[:2]) / long_side))


def soft_strokes(flat: np.ndarray) -> bool:
    """Whether the strokes of a flattened page are soft: their grey rim (pixels between ink and paper next
    to ink) outnumbers their dark core (`stroke_softness`)."""
    return stroke_softness(flat) >= SOFT_RIM_RATIO


def stroke_softness(flat: np.ndarray) -> float:
    """Rim pixels (between ink and paper, next to ink) per core pixel (ink) of a flattened page; infinite for a
    page without ink, which counts as soft: nothing to gain by a threshold.

    Counted at full resolution, in bands of rows: rims are one or two pixels wide, so no copy would do, and the
    counts add up band by band. Pages over 6000 px were measured on a copy of that size before: on a 600 dpi
    A4 page (35 MP, one core) its fractional area average took 0.58 s, the whole measure in bands takes 0.05 s."""
    inked = rim = 0
    height = flat.shape[0]
    for top in range(0, height, SOFTNESS_BAND_ROWS):
        # A row of context above and below, so the ink's 3 x 3 neighbourhood is whole at the seams.
        start, stop = max(0, top - 1), min(height, top + SOFTNESS_BAND_ROWS + 1)
        band = flat[start:stop]
        # OpenCV's masks and counts, not NumPy's comparisons: the same counts, a third of the time.
        _, core = cv2.threshold(band, INK_LEVEL, 1, cv2.THRESH_BINARY_INV)  # 1 where band <= INK_LEVEL
        near_ink = cv2.dilate(core, np.ones((3, 3), np.uint8))
        between = cv2.inRange(band, INK_LEVEL + 1, PAPER_LEVEL - 1)  # INK_LEVEL < band < PAPER_LEVEL
        rows = slice(top - start, top - start + min(SOFTNESS_BAND_ROWS, height - top))
        inked += cv2.countNonZero(core[rows])
        rim += cv2.countNonZero(cv2.bitwise_and(between[rows], near_ink[rows]))
    return math.inf if inked < MIN_INK_PIXELS else rim / inked


def denoise(work: Work, settings: DenoiseSettings) -> Work | None:
    if work.keep_grey:
        return None  # soft strokes: a median would only thin them, and the grey page is not binarized
    size = round(settings.size * work.dpi_scale) | 1  # odd, as median filters need
    if settings.method == "none" or size < 3:
        return None  # below 3 px a median would only erase thin strokes of low-resolution scans
    return replace(work, ocr=cv2.medianBlur(work.ocr, size))


def binarize(work: Work, settings: BinarizeSettings) -> Work | None:
    grey = work.ocr
    window = max(3, round(settings.window_px * work.dpi_scale) | 1)
    method = settings.method
    if method == "auto":
        method = "none" if work.keep_grey else "otsu"
    if method == "otsu":
        _, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    elif method == "sauvola":
        binary = sauvola(grey, window, settings.k)
    elif method == "adaptive":
        binary = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY,
                                       window, settings.offset)
    else:
        return None
    return replace(work, ocr=binary)


def sauvola(grey: np.ndarray, window: int, k: float, dynamic_range: float = 128.0) -> np.ndarray:
    """Sauvola's local threshold: ink is darker than mean * (1 + k * (stddev / R - 1)) of its window.
    Low-contrast windows (paper, faint bleed-through) get a threshold well below their mean."""
    binary = np.empty_like(grey)
    half = window // 2 + 1
    for top in range(0, grey.shape[0], SAUVOLA_BAND_ROWS):
        # Each band carries half a window of context above and below, so the seams are invisible.
        start, stop = max(0, top - half), min(grey.shape[0], top + SAUVOLA_BAND_ROWS + half)
        band = grey[start:stop].astype(np.float32)
        mean = cv2.boxFilter(band, -1, (window, window), borderType=cv2.BORDER_REFLECT)
        mean_sq = cv2.boxFilter(band * band, -1, (window, window), borderType=cv2.BORDER_REFLECT)
        stddev = np.sqrt(np.maximum(mean_sq - mean * mean, 0))
        threshold = mean * (1 + k * (stddev / dynamic_range - 1))
        rows = slice(top - start, top - start + min(SAUVOLA_BAND_ROWS, grey.shape[0] - top))
        binary[top:top + SAUVOLA_BAND_ROWS] = np.where(band[rows] > threshold[rows], 255, 0)
    return binary
