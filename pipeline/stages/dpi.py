"""What resolution a scan has: its dpi tag, judged. Loading a page and estimating a batch's work both ask,
so the rule lives in a module of its own that imports nothing heavy (preflight runs before any page is
decoded, and a rerun with nothing to do should not pay for loading the PDF libraries)."""

from __future__ import annotations

A4_LONG_SIDE_INCHES = 11.69
LOW_TAG_DPI = 150  # a tag below this that makes the page longer than LOW_TAG_MAX_INCHES is a default
LOW_TAG_MAX_INCHES = 17  # a little over A3 (16.5 inches)
MIN_DPI, MAX_DPI = 70, 1200


def plausible_dpi(dpi: float, long_side: int, default_dpi: int) -> int:
    """The resolution of a scan whose longer side is `long_side` px and whose tag says `dpi` (0: no tag).

    The tag is often missing or wrong: cameras and much software write 72 or 96 dpi on every image. A tag is
    believed when it makes the page 1 to 24 inches long (registers and maps are large), but not when a low
    tag (under 150 dpi) makes it longer than A3: a typewritten page photographed is not a poster.
    A page not believed, if it is large enough to be a scan of one, is taken for an A4 page."""
    length = long_side / dpi if dpi else 0.0
    if 1 <= length <= 24 and not (dpi < LOW_TAG_DPI and length > LOW_TAG_MAX_INCHES):
        return int(round(min(max(dpi, MIN_DPI), MAX_DPI)))
    if long_side >= 1500:
        return int(round(min(max(long_side / A4_LONG_SIDE_INCHES, MIN_DPI), MAX_DPI)))
    return default_dpi if long_side / default_dpi >= 1 else MIN_DPI
