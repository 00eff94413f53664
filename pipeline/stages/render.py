"""Render: one searchable PDF/A-2b per document, the access images with Tesseract's text layer on top.

A scan is embedded as it was written (never re-encoded) and drawn the way the page shows it: turned straight and
cut to the sheet (`Placement`). The PDF's drawing does what resampling the pixels would: a viewer or poppler
turns the scan as it renders the page, and the archive keeps the scan's own pixels, at no cost to the batch.
"""

from __future__ import annotations

import io
import math
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import cv2
import img2pdf
import numpy as np
import pikepdf

from ..pdfa import PdfInfo, make_pdfa


@dataclass(frozen=True)
class Placement:
    """How a scan lies on its page: straightened (its skew of `angle` degrees counter-clockwise undone by a turn
    about its centre), then cut to `box` (left, top, right, bottom in the straightened scan's pixels; None: all
    of it), the corners the turn uncovers filled with `paper` (a grey level, or RGB). As cleanup's
    `CleanedPage.page_image` makes the same page in pixels."""

    angle: float = 0.0
    box: tuple[int, int, int, int] | None = None
    paper: tuple[int, int, int] | int = 255
    centre: tuple[float, float] | None = None  # what the scan is turned about, in its pixels; None: its centre


def shown_part(width: int, height: int, placement: Placement) -> tuple[tuple[int, int, int, int], Placement]:
    """The part of a scan of `width` x `height` px that its page shows, as (left, top, right, bottom) in the
    scan's pixels, and the placement of that part alone. What the page cuts off is left out of the PDF: the
    scanner bed, and whatever lay on it beside the sheet, must not hide under the page's edge. A cut without a
    turn is a plain crop; with one, the part is the box turned back, and its corners outside the box stay
    hidden beyond the page's edge."""
    if placement.box is None:
        return (0, 0, width, height), placement
    left, top, right, bottom = placement.box
    if not placement.angle:
        return placement.box, Placement()
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), -placement.angle, 1.0)
    back = cv2.invertAffineTransform(turn)
    corners = np.array([[left, top], [right, top], [left, bottom], [right, bottom]], dtype=np.float64)
    xs, ys = (corners @ back[:, :2].T + back[:, 2]).T
    # Two pixels more on each side: the turn interpolates between neighbours.
    x0, y0 = max(0, math.floor(xs.min()) - 2), max(0, math.floor(ys.min()) - 2)
    x1, y1 = min(width, math.ceil(xs.max()) + 2), min(height, math.ceil(ys.max()) + 2)
    part = Placement(placement.angle, (left - x0, top - y0, right - x0, bottom - y0), placement.paper,
                     centre=(width / 2 - x0, height / 2 - y0))
    return (x0, y0, x1, y1), part


@dataclass(frozen=True)
class RenderPage:
    image: Path  # access copy (JPEG or PNG) carrying its dpi, which sets the page size
    text_pdf: Path  # Tesseract's invisible text layer for the same page geometry
    placement: Placement = Placement()


def render_pdfa(pages: list[RenderPage], out: Path, info: PdfInfo) -> Path:
    """Write the document's PDF/A-2b to `out` (images are embedded as they are, never re-encoded)."""
    image_pdf = img2pdf.convert([str(p.image) for p in pages], rotation=img2pdf.Rotation.ifvalid)
    with ExitStack() as stack, pikepdf.open(io.BytesIO(image_pdf)) as pdf:
        for page, source in zip(pdf.pages, pages):
            if source.placement != Placement():
                _place_scan(pdf, page, source.placement)
            # qpdf copies foreign stream data lazily, at save: the text layers stay open until then.
            text_layer = stack.enter_context(pikepdf.open(source.text_pdf))
            page.add_overlay(text_layer.pages[0])  # fitted to the page's (new) media box
        make_pdfa(pdf, info)
        pdf.save(out, fix_metadata_version=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out


def _place_scan(pdf: pikepdf.Pdf, page: pikepdf.Page, placement: Placement) -> None:
    """Replace img2pdf's drawing of the scan (filling the page) by `placement`'s, on a page of the box's size."""
    (name, image), = page.Resources.XObject.items()  # img2pdf draws one image per page
    width, height = int(image.Width), int(image.Height)
    points_per_pixel = float(page.mediabox[2]) / width  # from the scan's dpi, as img2pdf sized the page
    left, top, right, bottom = placement.box or (0, 0, width, height)
    page_width, page_height = (right - left) * points_per_pixel, (bottom - top) * points_per_pixel
    centre = placement.centre or (width / 2, height / 2)
    a, b, c, d, e, f = _scan_matrix(width, height, centre, placement.angle, left, top, bottom - top)
    fill = b""
    if placement.angle:
        paper = placement.paper if isinstance(placement.paper, tuple) else (placement.paper,)
        colour = " ".join(f"{v / 255:.4f}" for v in paper).encode()
        operator = b" rg" if len(paper) == 3 else b" g"
        fill = colour + operator + f" 0 0 {page_width:.4f} {page_height:.4f} re f\n".encode()
    matrix = " ".join(f"{v * points_per_pixel:.6f}" for v in (a, b, c, d, e, f))
    page.obj.Contents = pdf.make_stream(b"q\n" + fill + f"{matrix} cm\n{name} Do\nQ".encode())
    page.mediabox = pikepdf.Array([0, 0, page_width, page_height])


def _scan_matrix(width: int, height: int, centre: tuple[float, float], angle: float, left: int, top: int,
                 page_height: int) -> tuple[float, ...]:
    """The PDF matrix (a, b, c, d, e, f) in pixels of the page (y up) for the scan's unit square (PDF images
    are drawn onto it, first row at the top), so that the scan is turned as `rotate` turns its pixels, then
    shifted so the box's corner is the page's. OpenCV turns about `centre` in its pixel grid, whose pixel
    (i, j) is the unit square's point (i + 0.5, j + 0.5): the turn is moved by half a pixel to match."""
    m = cv2.getRotationMatrix2D(centre, -angle, 1.0)
    (r00, r01, t0), (r10, r11, t1) = m
    t0 += 0.5 - 0.5 * (r00 + r01)  # the same turn, about pixels' corners rather than their centres
    t1 += 0.5 - 0.5 * (r10 + r11)
    # scan pixel (u, v) -> turned (x, y) = R (u, v) + t -> page (x - left, page_height - (y - top)); u = width p,
    # v = height (1 - q) for the unit square's point (p, q).
    return (r00 * width, -r10 * width, -r01 * height, r11 * height,
            r01 * height + t0 - left, page_height - r11 * height - t1 + top)


def points_per_scan_pixel(page: pikepdf.Page, name: str, image_width: int) -> float | None:
    """The size in points of a pixel of the scan `name` (an image of `image_width` px) as the page draws it: the
    drawn length of the unit square's width (the `cm` before its `Do`), over its width in pixels. None when the
    page does not draw it with a matrix of its own (not a page of ours)."""
    matrix = None
    for operands, operator in pikepdf.parse_content_stream(page):
        if str(operator) == "cm":
            matrix = [float(v) for v in operands]
        elif str(operator) == "Do" and operands and str(operands[0]) == name and matrix:
            return math.hypot(matrix[0], matrix[1]) / image_width
    return None
