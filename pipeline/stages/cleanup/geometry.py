"""Image cleanup before OCR: straighten the page, crop the scanner bed, flatten the lighting, denoise, binarize.

Two images leave this stage, pixel for pixel aligned: `access` (what people look at: the original colours,
only geometric steps applied) and `ocr` (what Tesseract reads: grey or black and white, every step applied).
Tesseract's word boxes found on `ocr` are laid over `access` in the PDF, so each geometric step transforms
both images the same way.

Measurements (skew angle, page outline, paper colour, background) are taken on downscaled copies: a
9000x9000 scan then costs little more memory than a few copies of itself, and cleanup stays a small
fraction of Tesseract's time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from ..profiles import (
    BinarizeSettings,
    CleanProfile,
    CropBordersSettings,
    DenoiseSettings,
    DeskewSettings,
    NormalizeIlluminationSettings,
)

SKEW_ANALYSIS_SIDE = 1200  # px, longer side: fine enough for 0.1 degree precision, still fast
PAGE_ANALYSIS_SIDE = 1000  # px, longer side: the page outline and the background need less detail
MIN_INK_PIXELS = 200  # fewer ink pixels than this: no text to measure a skew on
MIN_SKEW_GAIN = 1.02  # a skew must sharpen the text lines by 2 % over "no skew", else it is noise
MIN_PAPER_GREY = 60  # brightest part of the page darker than this: a dark page, not a dark border
SAUVOLA_BAND_ROWS = 512  # Sauvola runs in row bands: float copies of a whole huge page would not fit
A4_LONG_SIDE_INCHES = 11.69


@dataclass(frozen=True)
class CleanedPage:
    access: np.ndarray  # uint8, grey or RGB like the input; may be the input array itself if untouched
    ocr: np.ndarray  # uint8 grey, or only 0 and 255 when binarized; same height and width as access
    skew_angle: float  # degrees the page was turned counter-clockwise and straightened by; 0 if left alone
    crop_box: tuple[int, int, int, int] | None  # (left, top, right, bottom) in the straightened image
    steps: tuple[str, ...]  # the steps that changed the page, in order
    timings: tuple[tuple[str, float], ...] = ()  # (step, seconds), also for steps that found nothing to do


@dataclass(frozen=True)
class _Work:
    """The page between steps. Steps return a new _Work with new arrays; they never write into the old ones."""

    access: np.ndarray
    ocr: np.ndarray
    dpi_scale: float  # the page's resolution / 300: settings given "at 300 dpi" are multiplied by it
    skew_angle: float = 0.0
    crop_box: tuple[int, int, int, int] | None = None


def clean_page(image: np.ndarray, dpi: int, profile: CleanProfile, debug_dir: Path | None = None) -> CleanedPage:
    """Run the profile's cleanup steps on one decoded page (uint8, HxW grey or HxWx3 RGB)."""
    if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(f"expected uint8 HxW or HxWx3 pixels, got {image.dtype} {image.shape}")
    started = time.perf_counter()
    work = _Work(access=image, ocr=to_grey(image), dpi_scale=effective_dpi(image.shape, dpi) / 300)
    steps, timings = ["grey"], [("grey", time.perf_counter() - started)]
    _write_debug(debug_dir, 1, "grey", work.ocr)
    for name, step in _STEPS:
        settings = getattr(profile, name)
        if not settings.enabled:
            continue
        started = time.perf_counter()
        changed = step(work, settings)
        timings.append((name, time.perf_counter() - started))
        if changed is not None:
            work = changed
            steps.append(name)
            _write_debug(debug_dir, len(steps), name, work.ocr)
    return CleanedPage(access=work.access, ocr=work.ocr, skew_angle=work.skew_angle, crop_box=work.crop_box,
                       steps=tuple(steps), timings=tuple(timings))


def to_grey(image: np.ndarray) -> np.ndarray:
    """A grey copy (the input is never changed: callers keep their pixels)."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image.copy()


def effective_dpi(shape: tuple[int, ...], dpi: int) -> float:
    """The dpi to scale settings by. Cameras and some software stamp 72 or 96 dpi on every image; when a low
    dpi would make the page larger than A3, assume the scan is of an A4 page instead."""
    long_side = max(shape[:2])
    if dpi < 150 and long_side / dpi > 17:
        return long_side / A4_LONG_SIDE_INCHES
    return float(dpi)


# --- 1. deskew ----------------------------------------------------------------------------------------------

def _deskew(work: _Work, settings: DeskewSettings) -> _Work | None:
    angle = estimate_skew(work.ocr, settings.max_angle)
    if abs(angle) < settings.min_angle:
        return None
    paper = paper_colour(work.access)
    access = rotate(work.access, -angle, paper)
    ocr = rotate(work.ocr, -angle, paper if isinstance(paper, int) else _grey_level(paper))
    return replace(work, access=access, ocr=ocr, skew_angle=angle)


def estimate_skew(grey: np.ndarray, max_angle: float) -> float:
    """Counter-clockwise skew of the text lines in degrees, 0.0 if there are no lines to measure.

    Projection profiles: text pixels projected onto the vertical axis give sharp peaks (lines) and
    gaps only when projected along the lines' true direction. A coarse search over +-max_angle finds
    the peak, a fine one around it the precise angle.
    """
    small, _ = downscale(grey, SKEW_ANALYSIS_SIDE)
    ys, xs = _text_pixels(small)
    if len(ys) < MIN_INK_PIXELS:
        return 0.0
    coarse_step, fine_step = 0.3, 0.05  # the coarse step is narrower than the peak of a text page
    best, _ = _best_angle(ys, xs, np.arange(-max_angle, max_angle + coarse_step / 2, coarse_step))
    best, best_score = _best_angle(ys, xs, np.arange(best - coarse_step, best + coarse_step + 0.01, fine_step))
    if best_score < MIN_SKEW_GAIN * _line_sharpness(ys, xs, 0.0):
        return 0.0
    return round(float(best), 2)


def _text_pixels(small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of pixels that belong to letter-sized marks.

    A local threshold ignores uneven lighting and keeps only the edges of large dark areas (scanner bed);
    dropping tall marks (page edges, vertical rules, stamps, photos) leaves the letters, whose rows
    carry the skew.
    """
    block = max(15, max(small.shape) // 40) | 1
    ink = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 15)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights, areas = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    letter_like = (heights <= max(small.shape) / 25) & (areas >= 3)
    letter_like[0] = False  # label 0 is the background
    ys, xs = np.nonzero(letter_like[labels])
    stride = max(1, len(ys) // 60_000)  # enough pixels for a stable profile, few enough to be fast
    return ys[::stride].astype(np.float32), xs[::stride].astype(np.float32)


def _best_angle(ys: np.ndarray, xs: np.ndarray, angles: np.ndarray) -> tuple[float, float]:
    scores = np.array([_line_sharpness(ys, xs, a) for a in angles])
    i = int(np.argmax(scores))
    if 0 < i < len(angles) - 1:  # a parabola through the peak and its neighbours: finer than the grid
        left, mid, right = scores[i - 1], scores[i], scores[i + 1]
        curvature = left - 2 * mid + right
        if curvature < 0:
            offset = 0.5 * (left - right) / curvature
            return float(angles[i] + offset * (angles[1] - angles[0])), float(mid)
    return float(angles[i]), float(scores[i])


def _line_sharpness(ys: np.ndarray, xs: np.ndarray, angle: float) -> float:
    """How crisp the horizontal projection is after undoing `angle`: squared jumps between adjacent rows."""
    theta = np.deg2rad(angle)
    rows = ys * np.cos(theta) + xs * np.sin(theta)
    profile = np.bincount((rows - rows.min()).astype(np.int32)).astype(np.float64)
    return float(np.sum(np.diff(profile) ** 2))


def rotate(image: np.ndarray, angle: float, fill: tuple[int, ...] | int) -> np.ndarray:
    """Turn counter-clockwise by `angle` degrees about the centre, keeping the size.

    Keeping the size keeps the page's physical dimensions in the PDF. At the largest skews searched (a few
    degrees) the corners move by less than a typical page margin, so no text is cut; the uncovered corners
    are filled with the paper's colour.
    """
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
        return int(np.median(paper)) if paper.size else 255
    return tuple(int(v) for v in np.median(paper, axis=0)) if paper.size else (255, 255, 255)


def _grey_level(rgb: tuple[int, int, int]) -> int:
    return int(cv2.cvtColor(np.array([[rgb]], dtype=np.uint8), cv2.COLOR_RGB2GRAY)[0, 0])


# --- 2. crop the scanner bed --------------------------------------------------------------------------------

def _crop_borders(work: _Work, settings: CropBordersSettings) -> _Work | None:
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
        return None
    access = np.ascontiguousarray(work.access[top:bottom, left:right])
    ocr = _whiten_outside(work.ocr, page, (left, top, right, bottom))
    return replace(work, access=access, ocr=ocr, crop_box=(left, top, right, bottom))


def find_page(grey: np.ndarray, skew_angle: float, bed_darkness: float) -> tuple[np.ndarray | None, float]:
    """A mask of the page (the largest bright region, holes filled) on a copy downscaled by the returned
    factor; None when the page cannot be told from the background."""
    small, factor = downscale(grey, PAGE_ANALYSIS_SIDE)
    small = cv2.medianBlur(small, 5)  # letters are not scanner bed
    scanned = _scanned_area(small.shape, skew_angle)
    paper = float(np.percentile(small[scanned], 90))
    if paper < MIN_PAPER_GREY:
        return None, factor
    bright = ((small >= paper * bed_darkness) & scanned).astype(np.uint8)
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None, factor
    page = np.zeros_like(bright)
    cv2.drawContours(page, [max(contours, key=cv2.contourArea)], -1, 1, thickness=cv2.FILLED)
    return page, factor


def _scanned_area(shape: tuple[int, int], skew_angle: float) -> np.ndarray:
    """Where the straightened image shows the scan rather than the corners filled in by the rotation."""
    if skew_angle == 0:
        return np.ones(shape, dtype=bool)
    ones = np.full(shape, 255, dtype=np.uint8)
    turned = cv2.warpAffine(ones, cv2.getRotationMatrix2D((shape[1] / 2, shape[0] / 2), -skew_angle, 1.0),
                            (shape[1], shape[0]), flags=cv2.INTER_NEAREST, borderValue=0)
    return cv2.erode(turned, np.ones((3, 3), np.uint8)) > 0


def _whiten_outside(ocr: np.ndarray, page: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The ocr image cropped to `box`, with what is left of the scanner bed painted white so Tesseract does
    not read its edges as letters. The mask is shrunk by a hair (about half a millimetre) so the shadow
    along the paper's edge goes too: no text is printed that close to the edge of a sheet."""
    left, top, right, bottom = box
    shrunk = cv2.erode(page, np.ones((5, 5), np.uint8))
    on_page = cv2.resize(shrunk, ocr.shape[::-1], interpolation=cv2.INTER_NEAREST)[top:bottom, left:right]
    off_page = cv2.compare(on_page, 0, cv2.CMP_EQ)  # 255 off the page, 0 on it
    return cv2.bitwise_or(ocr[top:bottom, left:right], off_page)


# --- 3. photometric steps: the ocr image only -------------------------------------------------------------

def _normalize_illumination(work: _Work, settings: NormalizeIlluminationSettings) -> _Work:
    """Divide by the paper's own brightness so shadows, uneven light and tinted paper all become white."""
    small, _ = downscale(work.ocr, PAGE_ANALYSIS_SIDE)
    size = max(3, int(settings.kernel_fraction * max(small.shape))) | 1
    # Closing (max then min filter) wider than any stroke replaces the ink by the paper around it.
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
    background = cv2.blur(background, (size, size))
    background = cv2.resize(background, work.ocr.shape[::-1], interpolation=cv2.INTER_LINEAR)
    flat = cv2.divide(work.ocr, np.maximum(background, 1), scale=255)
    return replace(work, ocr=flat)


def _denoise(work: _Work, settings: DenoiseSettings) -> _Work | None:
    size = round(settings.size * work.dpi_scale) | 1  # odd, as median filters need
    if settings.method == "none" or size < 3:
        return None  # below 3 px a median would only erase thin strokes of low-resolution scans
    return replace(work, ocr=cv2.medianBlur(work.ocr, size))


def _binarize(work: _Work, settings: BinarizeSettings) -> _Work | None:
    grey = work.ocr
    window = max(3, round(settings.window_px * work.dpi_scale) | 1)
    if settings.method == "otsu":
        _, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    elif settings.method == "sauvola":
        binary = sauvola(grey, window, settings.k)
    elif settings.method == "adaptive":
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


_STEPS = (
    ("deskew", _deskew),
    ("crop_borders", _crop_borders),
    ("normalize_illumination", _normalize_illumination),
    ("denoise", _denoise),
    ("binarize", _binarize),
)


# --- helpers ------------------------------------------------------------------------------------------------

def downscale(image: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """A copy whose longer side is at most `long_side`, and the factor back to full size (>= 1)."""
    factor = max(image.shape[:2]) / long_side
    if factor <= 1:
        return image, 1.0
    size = (max(1, round(image.shape[1] / factor)), max(1, round(image.shape[0] / factor)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return small, image.shape[1] / size[0]


def _write_debug(debug_dir: Path | None, number: int, name: str, image: np.ndarray) -> None:
    if debug_dir is None:
        return
    debug_dir.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(debug_dir / f"{number:02d}_{name}.png"), image)
