"""Decode one page of a scan into pixels, once: images through Pillow, PDF pages through poppler."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pikepdf
from pdf2image import convert_from_path
from pdf2image.exceptions import PDFPageCountError, PDFSyntaxError
from PIL import Image, ImageOps

from ..errors import CorruptFileError, DecompressionBombError, TruncatedFileError

A4_LONG_SIDE_INCHES = 11.69
MIN_DPI, MAX_DPI = 70, 1200
MAX_PDF_DPI = 600  # rasterizing beyond this only makes OCR slower


@dataclass(frozen=True)
class LoadedPage:
    pixels: np.ndarray  # uint8, HxW (grey) or HxWx3 (RGB)
    dpi: int
    bilevel: bool  # only black and white: stored losslessly in the access copy


def load_page(path: Path, fmt: str, index: int, max_pixels: int, default_dpi: int) -> LoadedPage:
    """Page `index` (0-based) of the scan at `path`."""
    if fmt == "pdf":
        image, dpi = _rasterize_pdf_page(path, index, max_pixels, default_dpi)
    else:
        image, dpi = _decode_image_frame(path, index, default_dpi)
    return _to_pixels(image, dpi)


def _decode_image_frame(path: Path, index: int, default_dpi: int) -> tuple[Image.Image, int]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img.seek(index)
                dpi_x, dpi_y = _image_dpi(img)
                frame = ImageOps.exif_transpose(img) if img.format == "JPEG" else img.copy()
                frame.load()
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(path, str(exc)) from exc
    except OSError as exc:
        if "truncated" in str(exc).lower():
            raise TruncatedFileError(path, "image data ends early: the file was cut short") from exc
        raise CorruptFileError(path, f"cannot decode page {index + 1}: {exc}") from exc
    if dpi_x and dpi_y and abs(dpi_x - dpi_y) > 1:
        # Non-square pixels (e.g. 200x100 dpi fax modes): resample to square so OCR sees true shapes.
        target = max(dpi_x, dpi_y)
        size = (round(frame.width * target / dpi_x), round(frame.height * target / dpi_y))
        frame = frame.resize(size, Image.Resampling.LANCZOS if frame.mode != "1" else Image.Resampling.NEAREST)
        dpi_x = dpi_y = target
    return frame, _plausible_dpi(dpi_x, frame.size, default_dpi)


def _image_dpi(img: Image.Image) -> tuple[float, float]:
    dpi = img.info.get("dpi") or (0, 0)
    try:
        return float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        return 0.0, 0.0


def _plausible_dpi(dpi: float, size: tuple[int, int], default_dpi: int) -> int:
    """A scan's dpi tag is often missing or wrong (72 on a 300 dpi scan); then assume an A4 page."""
    long_side = max(size)
    if dpi and 1 <= long_side / dpi <= 24:
        return int(round(min(max(dpi, MIN_DPI), MAX_DPI)))
    if long_side >= 1500:
        return int(round(min(max(long_side / A4_LONG_SIDE_INCHES, MIN_DPI), MAX_DPI)))
    return default_dpi if long_side / default_dpi >= 1 else MIN_DPI


def _rasterize_pdf_page(path: Path, index: int, max_pixels: int, default_dpi: int) -> tuple[Image.Image, int]:
    width_in, height_in, native_dpi = _pdf_page_geometry(path, index, default_dpi)
    dpi = int(min(max(native_dpi, 150), MAX_PDF_DPI))
    pixels = width_in * dpi * height_in * dpi
    if pixels > max_pixels:
        raise DecompressionBombError(
            path,
            f"page {index + 1} would be {width_in * dpi:.0f}x{height_in * dpi:.0f} px at {dpi} dpi "
            f"({pixels / 1e6:.0f} MP), over the limit of {max_pixels / 1e6:.0f} MP (--max-pixels)",
        )
    try:
        images = convert_from_path(path, dpi=dpi, first_page=index + 1, last_page=index + 1)
    except (PDFPageCountError, PDFSyntaxError) as exc:
        raise CorruptFileError(path, f"poppler cannot render page {index + 1}: {exc}") from exc
    if not images:
        raise CorruptFileError(path, f"poppler rendered nothing for page {index + 1}")
    return images[0], dpi


def _pdf_page_geometry(path: Path, index: int, default_dpi: int) -> tuple[float, float, float]:
    """Page size in inches and the resolution of its largest image (the scan), else default_dpi."""
    with pikepdf.open(path) as pdf:
        page = pdf.pages[index]
        box = page.cropbox
        width_in = abs(float(box[2]) - float(box[0])) / 72
        height_in = abs(float(box[3]) - float(box[1])) / 72
        if int(page.obj.get("/Rotate", 0)) % 180 == 90:
            width_in, height_in = height_in, width_in
        sizes = [(int(im.get("/Width", 0)), int(im.get("/Height", 0))) for im in page.images.values()]
    if not sizes or width_in <= 0 or height_in <= 0:
        return width_in, height_in, default_dpi
    # Assume the largest image is the scan covering the page (in either orientation).
    img_w, img_h = max(sizes, key=lambda wh: wh[0] * wh[1])
    long_px, long_in = max(img_w, img_h), max(width_in, height_in)
    return width_in, height_in, long_px / long_in


def _to_pixels(image: Image.Image, dpi: int) -> LoadedPage:
    if image.mode == "1":
        return LoadedPage(np.asarray(image.convert("L")), dpi, bilevel=True)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")  # scans have no transparency: flatten on paper white
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        image = _to_8bit(image)
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    pixels = np.asarray(image)
    if pixels.ndim == 3 and _is_grey(pixels):
        pixels = np.ascontiguousarray(pixels[:, :, 1])
    bilevel = pixels.ndim == 2 and _only_black_and_white(pixels)
    return LoadedPage(pixels, dpi, bilevel)


def _to_8bit(image: Image.Image) -> Image.Image:
    arr = np.asarray(image, dtype=np.float64)
    low, high = float(arr.min()), float(arr.max())
    scaled = (arr - low) * (255.0 / (high - low)) if high > low else np.zeros_like(arr)
    return Image.fromarray(scaled.astype(np.uint8), "L")


def _is_grey(rgb: np.ndarray) -> bool:
    """Colour scans of black-and-white paper: store them grey (a third of the size)."""
    sample = rgb[:: max(1, rgb.shape[0] // 256), :: max(1, rgb.shape[1] // 256)].astype(np.int16)
    spread = np.abs(sample[:, :, 0] - sample[:, :, 1]) + np.abs(sample[:, :, 1] - sample[:, :, 2])
    return bool(np.percentile(spread, 99) <= 6)


def _only_black_and_white(grey: np.ndarray) -> bool:
    sample = grey[:: max(1, grey.shape[0] // 512), :: max(1, grey.shape[1] // 512)]
    return bool(np.isin(sample, (0, 255)).all())
