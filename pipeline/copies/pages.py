"""The page images of a copy: each page of the archived PDF/A rendered back at its scan's resolution, with the
redaction boxes burned in (the pixels under them replaced by black, not covered by a drawn rectangle).

Rendered with poppler (pdf2image), the way ingest reads scanned PDFs: whatever the access image's encoding
(JPEG, PNG, CCITT G4), the copy starts from exactly what the archive's PDF shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from pdf2image import convert_from_path
from pdf2image.exceptions import PDFInfoNotInstalledError, PDFPageCountError
from PIL import Image, ImageDraw

from ..errors import DamagedArchiveError, MissingDependencyError
from ..redaction.model import Box
from ..stages.render import points_per_scan_pixel

PAD_FRACTION = 0.12  # of the box height, around each box: OCR boxes are tight on the ink, anti-aliasing is not
# px of the OCR'd page, at most (its letters are ~25 px high: their anti-aliasing reaches 1-3 px beyond the box). A box
# a clerk drew 400 px high was blacked out 48 px beyond each edge, over the words beside it.
MAX_PAD = 6


@dataclass(frozen=True)
class PageGeometry:
    width_pt: float
    height_pt: float
    pixels: tuple[int, int]  # the page's size in the embedded scan's pixels: the copy is rendered at it
    grey: bool


def page_geometries(pdf_path: Path) -> list[PageGeometry]:
    try:
        with pikepdf.open(pdf_path) as pdf:
            return [_geometry(page) for page in pdf.pages]
    except (pikepdf.PdfError, OSError) as exc:  # cut short, or gone: damage (exit 6), as `verify` says
        raise DamagedArchiveError.of(pdf_path, exc) from exc


def _geometry(page: pikepdf.Page) -> PageGeometry:
    box = page.mediabox
    width, height = float(box[2]) - float(box[0]), float(box[3]) - float(box[1])
    xobjects = page.obj.get("/Resources", {}).get("/XObject", {})
    images = {str(name): pikepdf.PdfImage(x) for name, x in xobjects.items() if x.get("/Subtype") == pikepdf.Name.Image}
    if not images:  # not one of ours: render at 300 dpi
        return PageGeometry(width, height, (round(width / 72 * 300), round(height / 72 * 300)), False)
    name, scan = max(images.items(), key=lambda item: item[1].width * item[1].height)
    grey = scan.bits_per_component == 1 or scan.colorspace in ("/DeviceGray", "/CalGray")
    # The page may show the scan straightened and cut to the sheet (stages.render): as many pixels as it shows.
    pixel = points_per_scan_pixel(page, name, scan.width)
    pixels = (round(width / pixel), round(height / pixel)) if pixel else (scan.width, scan.height)
    return PageGeometry(width, height, pixels, grey)


def render_page(pdf_path: Path, number: int, geometry: PageGeometry) -> Image.Image:
    try:
        images = convert_from_path(pdf_path, first_page=number, last_page=number, size=geometry.pixels,
                                   grayscale=geometry.grey)
    except PDFInfoNotInstalledError as exc:
        raise MissingDependencyError("poppler's pdftoppm is missing (Debian package poppler-utils)") from exc
    except PDFPageCountError as exc:
        raise DamagedArchiveError.of(pdf_path, exc) from exc
    return images[0]


def burn_boxes(image: Image.Image, boxes: list[Box], ocr_size: tuple[int, int]) -> Image.Image:
    """Black out `boxes` (in pixels of the OCR'd page, which may have been resized) on the rendered page."""
    if not boxes:
        return image
    scale_x, scale_y = image.width / ocr_size[0], image.height / ocr_size[1]
    burned = image.copy()
    draw = ImageDraw.Draw(burned)
    for left, top, right, bottom in boxes:
        pad = min(MAX_PAD, max(2.0, (bottom - top) * PAD_FRACTION))
        draw.rectangle((math.floor((left - pad) * scale_x), math.floor((top - pad) * scale_y),
                        math.ceil((right + pad) * scale_x), math.ceil((bottom + pad) * scale_y)), fill=0)
    return burned
