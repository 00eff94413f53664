"""What resolution a scan has: its dpi tag, judged. Loading a page and estimating a batch's work both ask,
so the rule lives in a module of its own that imports nothing heavy (preflight runs before any page is
decoded, and a rerun with nothing to do should not pay for loading the PDF libraries)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

A4_LONG_SIDE_INCHES = 11.69
LOW_TAG_DPI = 150  # a tag below this that makes the page longer than LOW_TAG_MAX_INCHES is a default
LOW_TAG_MAX_INCHES = 17  # a little over A3 (16.5 inches)
MAX_PAGE_INCHES = 50  # a little over A0 (46.8 inches): the plans and maps of a building permit's file
MAX_PHOTO_INCHES = 24  # a photograph's tag making the page longer is the camera's default (see plausible_dpi)
MIN_DPI, MAX_DPI = 70, 1200


def plausible_dpi(dpi: float, long_side: int, default_dpi: int, photograph: bool = False) -> int:
    """The resolution of a scan whose longer side is `long_side` px and whose tag says `dpi` (0: no tag).

    The tag is often missing or wrong: cameras and much software write 72 or 96 dpi on every image. A tag is
    believed when it makes the page 1 to 50 inches long (plans and maps up to A0 from a large-format scanner, a
    register, a receipt roll), but not when a low tag (under 150 dpi) makes it longer than A3: a typewritten
    page photographed is not a poster. A camera's tag (`photograph`: the image says how it was exposed) is
    believed up to 24 inches only: cameras write one tag whatever they photograph (72, 180, 240, 300, 350 dpi),
    and a 45-megapixel photograph of a letter tagged 300 dpi would be a 27-inch page, while a book scanner's
    camera tagged as calibrated is believed. A page not believed, if it is large enough to be a scan of one, is
    taken for an A4 page."""
    length = long_side / dpi if dpi else 0.0
    longest = MAX_PHOTO_INCHES if photograph else MAX_PAGE_INCHES
    if 1 <= length <= longest and not (dpi < LOW_TAG_DPI and length > LOW_TAG_MAX_INCHES):
        return int(round(min(max(dpi, MIN_DPI), MAX_DPI)))
    if long_side >= 1500:
        return int(round(min(max(long_side / A4_LONG_SIDE_INCHES, MIN_DPI), MAX_DPI)))
    return default_dpi if long_side / default_dpi >= 1 else MIN_DPI


# EXIF tags only a camera writes: how the picture was exposed (ExposureTime, FNumber, FocalLength).
_EXPOSURE_TAGS = (0x829A, 0x829D, 0x920A)


def is_photograph(img: Image.Image) -> bool:
    """Whether the image says it was taken by a camera: its dpi tag is then the camera's, not the page's. Only
    JPEG and TIFF files are asked, which keep EXIF in their header: a PNG's EXIF may follow its pixels, and
    Pillow decodes the whole image to find it (a batch's preflight reads headers only)."""
    if img.format not in ("JPEG", "MPO", "TIFF"):
        return False
    try:
        exposure = img.getexif().get_ifd(0x8769)  # the EXIF sub-directory
    except (OSError, ValueError, TypeError, KeyError, SyntaxError):
        return False  # unreadable EXIF: judged as any other image
    return any(tag in exposure for tag in _EXPOSURE_TAGS)
