"""Decode one page of a scan into pixels, once: images through Pillow, PDF pages through poppler.

Memory bound: a page is worked on at most WORK_PIXELS large (100 MP: a 9000x9000 scan passes whole), so that
a worker's peak memory stays under 1.5 GB whatever the batch holds. Larger pages are reduced as they are
decoded, never afterwards from a full-size copy when the format allows it: PDF pages are rasterized at a lower
dpi (a 35000x35000 px page of 117 inches at 85 dpi), JPEGs are decoded at 1/2, 1/4 or 1/8 scale by libjpeg.
Other images up to --max-pixels (preflight refuses larger ones) are decoded whole and reduced at once. The
master is never changed; the access copy in the PDF then has the reduced resolution too.
"""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, TiffImagePlugin

from ..errors import CorruptFileError, DecompressionBombError, TruncatedFileError
from .pdf_page import rasterize_pdf_page
from .preflight import page_frames
from .dpi import is_photograph, plausible_dpi

WORK_PIXELS = 100_000_000  # largest page worked on (see the module docstring)

Image.MAX_IMAGE_PIXELS = None  # sizes are checked by preflight (--max-pixels) and bounded here, not by Pillow


@dataclass(frozen=True)
class LoadedPage:
    pixels: np.ndarray  # uint8, HxW (grey) or HxWx3 (RGB)
    dpi: int
    bilevel: bool  # only black and white: stored losslessly in the access copy
    scale: float = 1.0  # pixels per pixel of the master page: below 1 when a page over WORK_PIXELS was reduced
    # The file is this one JPEG or PNG image as it is (8-bit grey or colour, not reduced, not turned by its EXIF
    # orientation): a program given the file itself sees exactly these pixels (see pagework, the gentle path).
    as_stored: bool = False


def load_page(path: Path, fmt: str, index: int, max_pixels: int, default_dpi: int) -> LoadedPage:
    """Page `index` (0-based) of the scan at `path`, at most min(max_pixels, WORK_PIXELS) large."""
    budget = min(max_pixels, WORK_PIXELS)
    if fmt == "pdf":
        image, dpi, scale = rasterize_pdf_page(path, index, budget, default_dpi)
        return _to_pixels(image, dpi, scale)
    image, dpi, scale, as_stored = _decode_image_frame(path, index, default_dpi, budget)
    return replace(_to_pixels(image, dpi, scale), as_stored=as_stored)


# Fax modes have pixels up to about twice as tall as wide (204x98 dpi); a ratio beyond this is a wrong tag.
MAX_PIXEL_ASPECT = 2.5


def _decode_image_frame(path: Path, index: int, default_dpi: int,
                        budget: int) -> tuple[Image.Image, int, float, bool]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                frame_index = page_frames(img, up_to=index)[index]
                img.seek(frame_index)
                sixteen_bit_colour = _sixteen_bit_colour(img)  # before reading EXIF: a PNG's loads the image
                dpi_x, dpi_y = _image_dpi(img)
                photograph = is_photograph(img)
                camera_jpeg = img.format in ("JPEG", "MPO")  # MPO: a JPEG with more images after the photo
                orientation = img.getexif().get(0x0112, 1) if camera_jpeg else 1  # EXIF turn
                full_width = img.width
                if orientation in _QUARTER_TURNS:  # the page's width once turned is its stored height
                    full_width, dpi_x, dpi_y = img.height, dpi_y, dpi_x
                elif _turned_by_its_tiff_tag(img):
                    # Decoded turned as its Orientation tag says (Pillow gives it its turned size already), while
                    # the tags' resolutions are along the stored axes: a fax page of 204 x 98 dpi stored on its
                    # side came out squashed to a strip of garbage text.
                    dpi_x, dpi_y = dpi_y, dpi_x
                plain = (img.format in ("JPEG", "PNG") and img.mode in ("L", "RGB") and orientation == 1
                         and not sixteen_bit_colour)
                stored_size = img.size if plain else None
                if camera_jpeg:
                    frame = _decode_jpeg(path, img, budget, orientation)
                elif sixteen_bit_colour:
                    turned = img.format == "TIFF" and img.tag_v2.get(274, 1) != 1
                    frame = _fit(_decode_sixteen_bit_colour(path, frame_index, turned), budget)
                elif _turned_on_its_side_undecodable(img):
                    frame = _fit(_decode_with_libtiff(path, frame_index), budget)
                else:
                    img.load()
                    frame = _fit(img, budget)
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(path, str(exc)) from exc
    except OSError as exc:
        if "truncated" in str(exc).lower():
            raise TruncatedFileError(path, "image data ends early: the file was cut short") from exc
        raise CorruptFileError(path, f"cannot decode page {index + 1}: {exc}") from exc
    if dpi_x and dpi_y and max(dpi_x, dpi_y) / min(dpi_x, dpi_y) > MAX_PIXEL_ASPECT:
        # Not a scanner's pixels: one of the two tags is wrong (a missing YResolution read as 1, a 300x72 pair
        # with a default left in). Stretched by it, a page grew 150-fold (or was squeezed to a strip of garbage
        # text); the larger value is taken for both, as for a page scanned at it.
        dpi_x = dpi_y = max(dpi_x, dpi_y)
    if dpi_x and dpi_y and abs(dpi_x - dpi_y) > 1:
        # Non-square pixels (e.g. 200x100 dpi fax modes): resample to square so OCR sees true shapes.
        target = max(dpi_x, dpi_y)
        size = (round(frame.width * target / dpi_x), round(frame.height * target / dpi_y))
        frame = frame.resize(size, Image.Resampling.LANCZOS if frame.mode != "1" else Image.Resampling.NEAREST)
        dpi_x = dpi_y = target
    scale = frame.width / full_width
    if scale < 1:
        frame = _fit(frame, budget)  # the resampling to square pixels may have enlarged it again
        scale = frame.width / full_width
    as_stored = frame.size == stored_size
    return frame, plausible_dpi(dpi_x * scale, max(frame.size), default_dpi, photograph), scale, as_stored


# EXIF orientations that turn the image a quarter (5 and 7 also mirror it): measured against its width as
# stored, a phone's upright photo of an A4 page was scaled by 0.63 and became an A3 page in the PDF.
_QUARTER_TURNS = (5, 6, 7, 8)


def _decode_jpeg(path: Path, img: Image.Image, budget: int, orientation: int) -> Image.Image:
    """Decode once, and no more than needed: grey pages straight to grey (libjpeg skips the colour
    conversion), pages over the budget at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling)."""
    try:
        return _decode_jpeg_with_pillow(path, img, budget, orientation)
    except OSError as exc:
        if "truncated" in str(exc).lower():
            raise
        # Arithmetic coding (ITU T.81 annex D: legal, rare) is missing from the libjpeg Pillow is built with
        # ("broken data stream"); OpenCV's decodes it, turned by the EXIF orientation as Pillow's is.
        pixels = cv2.imread(str(path), _OPENCV_REDUCED[_reduction(img.width * img.height, budget)])
        if pixels is None:
            raise
        return _fit(Image.fromarray(cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB), "RGB"), budget)


# The reduced decodes of OpenCV, by the factor they reduce a side by.
_OPENCV_REDUCED = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
                   8: cv2.IMREAD_REDUCED_COLOR_8}


def _reduction(pixels: int, budget: int) -> int:
    """The largest of 1, 2, 4, 8 that leaves `pixels` at least `budget` (then reduced to it exactly, as Pillow's
    draft mode does): a page just over the budget is not decoded at half its size."""
    return max(factor for factor in (1, 2, 4, 8) if factor == 1 or pixels / factor ** 2 >= budget)


def _decode_jpeg_with_pillow(path: Path, img: Image.Image, budget: int, orientation: int) -> Image.Image:
    mode = img.mode
    if mode in ("RGB", "YCbCr") and _jpeg_is_grey(path):
        mode = "L"
    factor = (img.width * img.height / budget) ** 0.5
    if mode != img.mode or factor > 1:
        img.draft(mode, (int(img.width / max(factor, 1)), int(img.height / max(factor, 1))))
    frame = ImageOps.exif_transpose(img) if orientation != 1 else img
    frame.load()
    return _fit(frame, budget)


def _turned_by_its_tiff_tag(img: Image.Image) -> bool:
    """Whether the TIFF page `img`, not yet decoded, comes out turned a quarter by its Orientation tag: Pillow then
    gives it the turned size (the stored width and length the other way round), and drops the tag once decoded."""
    if img.format != "TIFF" or img.tag_v2.get(274) not in _QUARTER_TURNS:
        return False
    stored_width, stored_length = img.tag_v2.get(256, 0), img.tag_v2.get(257, 0)
    return stored_width != stored_length and img.size == (stored_length, stored_width)


def _turned_on_its_side_undecodable(img: Image.Image) -> bool:
    """A TIFF page whose Orientation tag (274) turns it a quarter, stored uncompressed: Pillow gives it the
    turned size, then its own decoder fills that with the stored rows, a diagonal smear (archived, read as
    noise). Through libtiff it comes out turned."""
    return img.format == "TIFF" and img.tag_v2.get(274) in _QUARTER_TURNS and bool(img.tile) \
        and img.tile[0][0] != "libtiff"


def _decode_with_libtiff(path: Path, frame: int) -> Image.Image:
    saved = TiffImagePlugin.READ_LIBTIFF
    TiffImagePlugin.READ_LIBTIFF = True  # read at open: this image only (a worker decodes one page at a time)
    try:
        with Image.open(path) as img:
            img.seek(frame)
            img.load()  # its pixels outlive the file's closing, as a page decoded in _decode_image_frame does
        return img
    finally:
        TiffImagePlugin.READ_LIBTIFF = saved


def _sixteen_bit_colour(img: Image.Image) -> bool:
    """Colour with 16 bits a channel (a PNG's RGB;16B, a TIFF's RGB;16N): Pillow keeps the high byte of each."""
    return img.mode in ("RGB", "RGBA") and bool(img.tile) and ";16" in str(img.tile[0][3])


def _decode_sixteen_bit_colour(path: Path, frame: int, turned: bool = False) -> Image.Image:
    """A 16-bit colour page in 8 bits by the range its values were written in, as `_to_8bit` does for grey: a
    12-bit camera's or scanner's values (0-4095) kept in 16 bits have a high byte of 0-15, and Pillow made such a
    page black. OpenCV decodes the 16 bits (Pillow has no 16-bit colour mode); a transparent page is laid on
    white. A TIFF turned by its Orientation tag (`turned`) is read as a page of many: imread refuses it, and
    printed an "Internal imread issue" error on a run that went well."""
    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED) if frame == 0 and not turned else None
    if pixels is None:  # a page after the first; or a TIFF turned by its Orientation tag
        ok, pages = cv2.imreadmulti(str(path), frame, 1, flags=cv2.IMREAD_UNCHANGED)
        pixels = pages[0] if ok and pages else None
    if pixels is None or pixels.dtype != np.uint16 or pixels.ndim != 3:
        raise OSError(f"cannot decode 16-bit colour page {frame + 1}")
    if pixels.shape[2] == 4:
        alpha = pixels[:, :, 3:].astype(np.float32) / 65535
        pixels = np.rint(pixels[:, :, :3] * alpha + float(pixels[:, :, :3].max()) * (1 - alpha)).astype(np.uint16)
    shift = _written_bits(int(pixels.max())) - 8
    np.right_shift(pixels, shift, out=pixels)  # in place: a 100 MP page's 16 bits take 600 MB
    rgb = cv2.cvtColor(pixels.astype(np.uint8), cv2.COLOR_BGR2RGB)
    return Image.fromarray(rgb, "RGB")


def _jpeg_is_grey(path: Path) -> bool:
    """Colour JPEG of black-and-white paper? Judged on an 1/8-scale decode, which costs ~1/30 of a full one."""
    with Image.open(path) as small:
        small.draft("RGB", (small.width // 8, small.height // 8))
        return _is_grey(np.asarray(small.convert("RGB")))


def _fit(image: Image.Image, budget: int) -> Image.Image:
    """`image`, or a reduced copy of it when it has more than `budget` pixels (the original is then freed)."""
    if image.width * image.height <= budget:
        return image
    factor = (image.width * image.height / budget) ** 0.5
    size = (max(1, int(image.width / factor)), max(1, int(image.height / factor)))
    if image.mode == "1":
        image = image.convert("L")  # a reduced black-and-white page is grey: its edges fall between pixels
    return image.resize(size, Image.Resampling.BOX)


def _image_dpi(img: Image.Image) -> tuple[float, float]:
    dpi = img.info.get("dpi") or (0, 0)
    try:
        found = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        found = 0.0, 0.0
    if not all(found) and img.format == "JPEG2000" and getattr(img, "filename", None):
        return _jpeg2000_display_dpi(Path(img.filename)) or found
    return found


def _jpeg2000_display_dpi(path: Path) -> tuple[float, float] | None:
    """A JP2 file's default display resolution (its jp2h/res /resd box, ISO 15444-1 I.5.3.7.2: numerator,
    denominator and exponent of pixels per metre, vertical then horizontal), for a file that gives no capture
    resolution (resc), the only one Pillow reads: such a page got the dpi assumed for a page without a tag.
    Written by hand for that reason; the header boxes come before the code stream, in the file's first bytes."""
    with path.open("rb") as fh:
        data = fh.read(1 << 16)
    offset = 0
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if kind in (b"jp2h", b"res "):  # superboxes: their boxes follow their header
            offset += 8
            continue
        if kind == b"resd" and offset + 18 <= len(data):
            vr_n, vr_d, hr_n, hr_d, vr_e, hr_e = struct.unpack(">HHHHbb", data[offset + 8:offset + 18])
            if vr_d and hr_d and vr_n and hr_n:
                return hr_n / hr_d * 10.0 ** hr_e * 0.0254, vr_n / vr_d * 10.0 ** vr_e * 0.0254
            return None
        if kind == b"jp2c" or length < 8:  # the code stream (or a box running to the end): no header after it
            return None
        offset += length
    return None


def _to_pixels(image: Image.Image, dpi: int, scale: float = 1.0) -> LoadedPage:
    if image.mode == "1":
        return LoadedPage(np.asarray(image.convert("L")), dpi, bilevel=True, scale=scale)
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
    bilevel = pixels.ndim == 2 and only_black_and_white(pixels)
    return LoadedPage(pixels, dpi, bilevel, scale)


def _to_8bit(image: Image.Image) -> Image.Image:
    """A 16-bit, 32-bit or floating-point grey scan in 8 bits, by the range its values were written in: 16, 12
    or 8 bits (the smallest that holds its brightest pixel), 0 to 1 for floats. Stretched from its darkest to its
    brightest pixel instead, a blank back of a sheet had its sensor noise made into black and white grain
    (Tesseract then took minutes over it), and a white page came out black. Missing values (NaN, infinity) are
    taken for paper. Values outside any such range (negative, over 16 bits) are stretched."""
    values = np.asarray(image, dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.all():
        values = np.where(finite, values, values[finite].max() if finite.any() else 255.0)
    low, high = float(values.min()), float(values.max())
    if image.mode == "F" and low >= 0 and high <= 1:
        scaled = values * 255.0
    elif low >= 0 and high <= 65535:
        scaled = values * (255.0 / (2 ** _written_bits(int(high)) - 1))
    elif high > low:
        scaled = (values - low) * (255.0 / (high - low))
    else:
        scaled = np.full_like(values, 255.0)  # one value all over, out of every range: a blank page
    return Image.fromarray(np.rint(scaled).clip(0, 255).astype(np.uint8), "L")


def _written_bits(brightest: int) -> int:
    """The bits a scan's values were written in (8, 12, 16, ...): the fewest that hold its brightest value."""
    return max(8, brightest.bit_length())


def _is_grey(rgb: np.ndarray) -> bool:
    """Colour scans of black-and-white paper: store them grey (a third of the size)."""
    sample = rgb[:: max(1, rgb.shape[0] // 256), :: max(1, rgb.shape[1] // 256)].astype(np.int16)
    spread = np.abs(sample[:, :, 0] - sample[:, :, 1]) + np.abs(sample[:, :, 1] - sample[:, :, 2])
    return bool(np.percentile(spread, 99) <= 6)


def only_black_and_white(grey: np.ndarray) -> bool:
    """Whether a grey page holds only black and white (a 1-bit scan), judged on a sample of about 512 x 512 px."""
    sample = grey[:: max(1, grey.shape[0] // 512), :: max(1, grey.shape[1] // 512)]
    return bool(np.isin(sample, (0, 255)).all())
