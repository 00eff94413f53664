"""Writes the copy's PDF with fpdf2: per page the (redacted) scan, an invisible text layer placed word by word
from the hOCR boxes, and, for a certified copy, a stamp band added under the scan (so the stamp never hides
any of the record). The text layer and the stamp use DejaVu Sans (Debian's fonts-dejavu-core), embedded as a
subset: it has the Romanian, Polish and Cyrillic letters."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TextMode
from PIL import Image

from ..hocr import Line
from ..errors import MissingDependencyError
from .stamp import Stamp

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT, FONT_BOLD = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
BAND = 0.15  # stamp band height, as a fraction of the page width
JPEG_QUALITY = 85


@dataclass(frozen=True)
class CopyPage:
    image: Image.Image  # the rendered page, boxes burned in
    width_pt: float
    height_pt: float
    ocr_size: tuple[int, int]  # the hOCR's pixel grid
    lines: list[Line]  # the words to keep in the text layer


def write_copy_pdf(pages: list[CopyPage], stamp: Stamp | None, title: str) -> bytes:
    for font in (FONT, FONT_BOLD):
        if not font.is_file():
            raise MissingDependencyError(f"the font {font} is missing (Debian package fonts-dejavu-core)")
    pdf = FPDF(unit="pt")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.add_font("DejaVu", style="B", fname=str(FONT_BOLD))
    pdf.set_title(title)
    for page in pages:
        band = page.width_pt * BAND if stamp else 0.0
        pdf.add_page(format=(page.width_pt, page.height_pt + band))
        pdf.image(_encoded(page.image), x=0, y=0, w=page.width_pt, h=page.height_pt)
        _text_layer(pdf, page)
        if stamp:
            _stamp(pdf, stamp, top=page.height_pt, width=page.width_pt, height=band)
    return bytes(pdf.output())


def _encoded(image: Image.Image) -> io.BytesIO:
    """JPEG for continuous-tone scans (embedded as it is), PNG (lossless) for black-and-white ones."""
    buffer = io.BytesIO()
    if image.mode == "L" and _is_bitonal(image):
        image.save(buffer, format="PNG", optimize=True)
    else:
        image.convert("RGB" if image.mode != "L" else "L").save(buffer, format="JPEG", quality=JPEG_QUALITY)
    buffer.seek(0)
    return buffer


def _is_bitonal(image: Image.Image) -> bool:
    histogram = image.histogram()
    return sum(histogram[1:255]) < 0.01 * image.width * image.height


def _text_layer(pdf: FPDF, page: CopyPage) -> None:
    scale_x, scale_y = page.width_pt / page.ocr_size[0], page.height_pt / page.ocr_size[1]
    # In a saved graphics state: the invisible render mode and the stretching must not reach the stamp.
    with pdf.local_context(text_mode=TextMode.INVISIBLE):
        for line in page.lines:
            left, top, right, bottom = line.bbox
            size = max(1.0, (bottom - top) * scale_y * 0.8)
            baseline = (bottom - (bottom - top) * 0.2) * scale_y  # one baseline per line keeps its words together
            pdf.set_font("DejaVu", size=size)
            for word in line.words:
                pdf.set_stretching(100)  # fpdf2 measures a string as the last word was stretched: stretched
                # twice, a long word overran its neighbours and a short one shrank to nothing (ADMINISTRATIVE read
                # back as ADM, two words run together)
                natural = pdf.get_string_width(word.text)
                wanted = (word.bbox[2] - word.bbox[0]) * scale_x
                pdf.set_stretching(100 * wanted / natural if natural > 0 else 100)
                pdf.text(word.bbox[0] * scale_x, baseline, word.text)
    pdf.set_stretching(100)


def _stamp(pdf: FPDF, stamp: Stamp, top: float, width: float, height: float) -> None:
    pad = height * 0.08
    pdf.set_draw_color(0)
    pdf.set_line_width(max(0.5, height * 0.01))
    pdf.rect(pad / 2, top + pad / 2, width - pad, height - pad)
    qr_size = height - 2 * pad
    _qr(pdf, stamp.qr_modules(), x=width - pad - qr_size, y=top + pad, size=qr_size)
    room = width - qr_size - 4 * pad
    y = top + pad
    for text, style, share in [(stamp.title, "B", 0.17)] + [(line, "", 0.11) for line in stamp.lines]:
        size = height * share
        pdf.set_font("DejaVu", style=style, size=size)
        while pdf.get_string_width(text) > room and size > 3:  # a long address: smaller letters, not cut
            size *= 0.92
            pdf.set_font("DejaVu", style=style, size=size)
        y += height * share * 1.25
        pdf.text(2 * pad, y, text)


def _qr(pdf: FPDF, modules: list[list[bool]], x: float, y: float, size: float) -> None:
    quiet = 4  # modules of white around the code, which readers need to find it
    cell = size / (len(modules) + 2 * quiet)
    x, y = x + quiet * cell, y + quiet * cell
    pdf.set_fill_color(0)
    for row, dark in enumerate(modules):
        column = 0
        while column < len(dark):  # one rectangle per run of dark modules
            if not dark[column]:
                column += 1
                continue
            end = column
            while end < len(dark) and dark[end]:
                end += 1
            pdf.rect(x + column * cell, y + row * cell, (end - column) * cell, cell, style="F")
            column = end
