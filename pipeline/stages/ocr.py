"""OCR: one Tesseract run per page gives the text, the word boxes and confidences (hOCR) and the PDF text layer."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .._exec import tesseract
from ..errors import OcrFailedError
from ..hocr import HocrPage, Line, read_hocr
from ..model import PageText
from .orthography import romanian_letters
from .unread import unread_share

SINGLE_BLOCK = 6  # Tesseract's --psm for "one uniform block of text": no layout analysis to drop paragraphs
MIN_REREAD_GAIN = 0.1  # the second reading must leave this much less of the page unread to be kept


@dataclass(frozen=True)
class OcrOutput:
    hocr: Path
    text_pdf: Path  # invisible text layer, same page geometry as the image
    page: PageText
    lines: tuple[Line, ...] = ()  # the hOCR's text lines with their words (the page's words, by line)

    def reloaded(self) -> OcrOutput:
        """This reading with its words and lines as its hOCR file says now, after a step rewrote the file."""
        hocr_page = parse_hocr(self.hocr)
        return replace(self, page=replace(self.page, words=hocr_page.words), lines=hocr_page.lines)


def read_whole_page(image: Path, pixels: np.ndarray, out_base: Path, languages: str, page_number: int, dpi: int,
                    timeout: float, reread_if_unread: float | None, tell_dpi: bool = True,
                    psm: int | None = None) -> tuple[OcrOutput, bool]:
    """`recognize` (with the page segmentation mode `psm`; None: Tesseract's own), and when that reading left
    more than `reread_if_unread` of the page's letters outside every word (`pixels`: the image read), a second
    reading as one block of text, kept if it leaves clearly less unread. Returns the reading (Romanian spelt as
    Romanian writes it: stages.orthography) and whether it is the second one. See pipeline.stages.unread.
    `tell_dpi`: False for an image file whose own dpi tag Tesseract is to use."""
    reading, reread = _fullest_reading(image, pixels, out_base, languages, page_number, dpi, timeout,
                                       reread_if_unread, dpi if tell_dpi else None, psm)
    return romanian_letters(reading, languages), reread


def _fullest_reading(image: Path, pixels: np.ndarray, out_base: Path, languages: str, page_number: int, dpi: int,
                     timeout: float, reread_if_unread: float | None, told: int | None,
                     psm: int | None) -> tuple[OcrOutput, bool]:
    first = recognize(image, out_base, languages, page_number, dpi, timeout, psm=psm, told_dpi=told)
    if reread_if_unread is None:
        return first, False
    unread = unread_share(pixels, first.page.words)
    if unread is None or unread <= reread_if_unread:
        return first, False
    second = recognize(image, out_base.with_name(out_base.name + "-block"), languages, page_number, dpi, timeout,
                       psm=SINGLE_BLOCK, told_dpi=told)
    again = unread_share(pixels, second.page.words)
    if again is not None and again <= unread - MIN_REREAD_GAIN:
        return second, True
    return first, False


def recognize(image: Path, out_base: Path, languages: str, page_number: int, dpi: int, timeout: float,
              psm: int | None = None, told_dpi: int | None = None) -> OcrOutput:
    """Run Tesseract once on `image` and collect all it produced. `told_dpi` is passed to Tesseract (the image
    written for it records no dpi); `dpi` is what the page's text records."""
    outputs = tesseract.run_page(image, out_base, languages, timeout, told_dpi, psm)
    text = outputs["txt"].read_text(encoding="utf-8", errors="replace")
    hocr_page = parse_hocr(outputs["hocr"])
    width, height = hocr_page.size
    page = PageText(number=page_number, text=_tidy(text), words=hocr_page.words, width=width, height=height,
                    dpi=dpi)
    return OcrOutput(hocr=outputs["hocr"], text_pdf=outputs["pdf"], page=page, lines=hocr_page.lines)


def parse_hocr(path: Path) -> HocrPage:
    """The page Tesseract wrote to `path` (pipeline.hocr), or OcrFailedError when it is not well-formed."""
    try:
        return read_hocr(path)
    except ET.ParseError as exc:
        raise OcrFailedError(path, f"Tesseract wrote unreadable hOCR: {exc}") from exc


def _tidy(text: str) -> str:
    """Tesseract ends pages with a form feed and pads lines; keep paragraphs, drop the rest."""
    lines = [line.rstrip() for line in text.replace("\f", "").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
