"""Resample the OCR image so its letters have the size Tesseract reads best. The access image is never resampled.

Tesseract's models are trained on text of roughly 20-30 px letter height. Letters of 8-14 px (a page
scanned at 100-150 dpi, or a photo stamped "72 dpi") lose strokes when binarized at their own size and are
misread; enlarging the grey image first with cubic interpolation keeps their shapes. Letters well above the
ideal (a large typeface at 300 dpi, any page at 400-1200 dpi) are reduced to it: Tesseract then reads them as
well or better, and faster (two typescripts of the dev corpus with 35-37 px letters: CER 0.146 -> 0.143 and
0.234 -> 0.178, OCR 5.5 -> 3.8 s and 3.5 -> 3.0 s). A page's small letters limit the reduction: they are not
made smaller than the size below which they would be enlarged (large headings over small print stay as they
are). Letter heights are measured, not taken from the dpi tag, because dpi tags are so often wrong.

A big page whose letters are clearly too large (a 400-600 dpi scan) is reduced first, before it is straightened,
cropped and measured (`reduce_large_page`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import cv2
import numpy as np

from ...profiles import ResolutionSettings
from .measure import TEXT_HEIGHT_SIDE, ink_share, shrink_by, small_text_height, text_height
from .work import Work, to_grey

MIN_CHANGE = 1.25  # smaller enlargements gain nothing and cost a resampling
# px, longer side: bigger pages (A4 over 340 dpi) whose letters are clearly too large are reduced before the other
# steps. Every page of the development corpus is smaller.
REDUCE_FIRST_FROM = 4000
# Reduced first only to this factor or less (letters of 36 px or more at the default target of 25): a page nearer
# the reduction bar (31 px) is measured at full size once it is straightened and cropped, as smaller pages are.
REDUCE_FIRST_MAX_FACTOR = 0.7
# Share of a page that its marks cover, at most, for it to be enlarged for its small letters. Text covers 4-21 %
# of the corpus's pages (bed borders and stamps included); a halftone photograph, film grain or noise 35-46 %,
# and its dots measure as 8-10 px letters: enlarged 2.5x to 60 MP, such a page held Tesseract for minutes.
# Measured on the scan as it came: straightened (a resampling) and flattened, a halftone laid 0.3 degrees askew
# covered 25 % (39 % as scanned), and was enlarged.
MAX_TEXT_INK = 0.3


def reduce_large_page(work: Work, settings: ResolutionSettings) -> Work | None:
    """The OCR image of a page over REDUCE_FIRST_FROM px whose letters are clearly larger than Tesseract reads
    best (a 400-600 dpi scan), reduced before anything else is done to it. The access image keeps its size.

    At 600 dpi a page has four times the pixels of a 300 dpi one, and Tesseract reads it reduced to about the
    same size. Straightened, cropped, flattened and measured at full size, its cleanup took 18-41 % of the OCR
    time on 9 of the corpus's 26 real scans enlarged to 600 dpi (bench/RESULTS.md, twenty-first session).
    Reduced first, every later step works on the pixels Tesseract will read. The letters are measured here on a
    copy of at most TEXT_HEIGHT_SIDE px averaged by whole blocks (a few ms; on a 1200 px copy, where 600 dpi
    letters are 5-10 px, they measured too large); after the other steps `resample_for_ocr` measures them
    again, on the page as cleaned, and resamples only if they are still off by more than its margins."""
    longer = max(work.ocr.shape)
    if longer <= REDUCE_FIRST_FROM:
        return None
    copy = shrink_by(work.ocr, -(-longer // TEXT_HEIGHT_SIDE))  # at most TEXT_HEIGHT_SIDE px, by whole blocks
    scale = longer / max(copy.shape)
    height = _times(text_height(copy), scale)
    factor = _factor_for(height, work.ocr.shape, settings, lambda: _times(small_text_height(copy), scale))
    if factor > REDUCE_FIRST_MAX_FACTOR:
        return None
    ocr = resize(work.ocr, factor)
    # Still the scan's grey (specks not removed), turned as the scan: kept for a page read as scanned (20-25 ms
    # of a 600 dpi A4 page, one core).
    reduced_scan = None if work.despeckled or work.ocr_scale != 1.0 else (work.turn, ocr)
    return replace(work, ocr=ocr, ocr_scale=work.ocr_scale * factor, dpi_scale=work.dpi_scale * factor,
                   reduced_scan=reduced_scan)


def _times(height: int | None, scale: float) -> int | None:
    return round(height * scale) if height else None


def resample_for_ocr(work: Work, settings: ResolutionSettings) -> Work | None:
    # Flattening does not change letter sizes: a height measured on the page before it is reused.
    height = work.text_height if work.text_height is not None and work.ocr_scale == 1.0 else text_height(work.ocr)
    factor = letter_factor(work.ocr, height, settings)
    if factor > 1.0 and ink_share(_scan_grey(work.access)) > MAX_TEXT_INK:
        factor = 1.0  # no small letters but a halftone, grain or noise: see MAX_TEXT_INK
    if factor == 1.0:
        scale = pixel_scale(work.dpi_scale, height, settings)
        if height == work.text_height and scale == work.dpi_scale:
            return None
        return replace(work, text_height=height, dpi_scale=scale)
    ocr = resize(work.ocr, factor)
    height = round(height * factor) if height else None
    return replace(work, ocr=ocr, ocr_scale=work.ocr_scale * factor, text_height=height,
                   dpi_scale=pixel_scale(work.dpi_scale * factor, height, settings))


def _scan_grey(access: np.ndarray) -> np.ndarray:
    """The scan in grey, to be measured only: a grey scan itself, not a copy (work.to_grey copies)."""
    return access if access.ndim == 2 else to_grey(access)


def resize(grey: np.ndarray, factor: float) -> np.ndarray:
    """`grey` enlarged (cubic: letter shapes stay smooth) or reduced (`reduce`) by `factor`."""
    size = (max(1, round(grey.shape[1] * factor)), max(1, round(grey.shape[0] * factor)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_CUBIC) if factor > 1 else reduce(grey, size)


def reduce(grey: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`grey` reduced to `size` (width, height) by area averaging. A page reduced to half or less (a 600 dpi
    scan) is first averaged by whole blocks (`shrink_by`), then by the fraction left: OpenCV's area average is
    fast on whole blocks and slow on a fractional factor (a 600 dpi A4 page to 0.357 of its size, one core:
    275 ms at once, 120 ms in two steps; the two differ by 0.2-0.6 grey levels on average, at most 16 on
    sharp edges). A page reduced by less than half (every accuracy page of the corpus) is averaged once."""
    whole = int(grey.shape[1] / size[0])
    source = shrink_by(grey, whole) if whole >= 2 else grey
    return cv2.resize(source, size, interpolation=cv2.INTER_AREA)


def pixel_scale(dpi_scale: float, height: int | None, settings: ResolutionSettings) -> float:
    """The scale for the later steps' settings given in px at 300 dpi (the denoising median, binarization
    windows): the dpi's, but never more than the letters say (a 300 dpi scan of ordinary type has letters of
    about `target_text_px`). A dpi tag can be wrong and still believable: a page shrunk to half by a document
    system keeps its "300 dpi", and a 200 dpi page without a tag is taken for 300. Its 7-10 px letters are
    enlarged 2.5-3.5x, and the median grown with the dpi and the enlargement became 7-11 px and made blobs of
    them (black-and-white corpus pages at half size tagged 300 dpi: CER 0.316, with the letters' scale 0.179;
    raw Tesseract 0.378; bench/scan_variants.py). Letters measured too small among salt-and-pepper specks, for
    which only a large median helped, are no longer measured so: the specks are removed first (specks.py)."""
    if not height:
        return dpi_scale
    return min(dpi_scale, height / settings.target_text_px)


def letter_factor(grey: np.ndarray, height: int | None, settings: ResolutionSettings) -> float:
    """`ocr_factor` for a page whose typical letter height is `height`; its small letters are measured only
    when the page would be reduced."""
    return _factor_for(height, grey.shape, settings, lambda: small_text_height(grey))


def _factor_for(height: int | None, shape: tuple[int, ...], settings: ResolutionSettings,
                small_height: Callable[[], int | None]) -> float:
    """`ocr_factor` for letters of `height` on a page of `shape`; `small_height()` is asked only when the
    letters are large enough to be reduced."""
    large = bool(height) and height > settings.target_text_px * settings.max_text_ratio
    return ocr_factor(height, shape, settings, small_height() if large else None)


def ocr_factor(height: int | None, shape: tuple[int, ...], settings: ResolutionSettings,
               small_height: int | None = None) -> float:
    """How much to enlarge (> 1) or reduce (< 1) the OCR image; 1.0 to leave it."""
    factor = 1.0
    target = settings.target_text_px
    if height and height < target / MIN_CHANGE:
        factor = min(target / height, settings.max_upscale)
    elif height and height > target * settings.max_text_ratio:
        factor = target / height
        if small_height:
            factor = min(1.0, max(factor, target / MIN_CHANGE / small_height))
    megapixels = shape[0] * shape[1] * factor * factor / 1e6
    if megapixels > settings.max_ocr_megapixels:
        factor *= (settings.max_ocr_megapixels / megapixels) ** 0.5
    return 1.0 if abs(factor - 1.0) < 0.05 else round(factor, 3)
