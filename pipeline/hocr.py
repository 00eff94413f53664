"""Reading hOCR, the page format Tesseract writes (and staff corrections keep): the page's size, its text lines
and their words with boxes and confidences, its text. Everything that reads a page's hOCR reads it here: the OCR
stage, corrections, hit boxes, certified copies and redaction, the portal. `serialized` gives a page changed
after reading (a corrected line, lines joined from a second reading) back as hOCR.

The format is the hOCR specification's: elements whose `class` says what they are (`ocr_page`, `ocr_line`,
`ocrx_word`, ...) and whose `title` holds properties such as `bbox x0 y0 x1 y1` and `x_wconf 93`. Written by
hand on the standard library's XML parser: the hOCR readers on PyPI are not kept up (pyhocr's last release is
from 2018), and what is needed here is a few lines.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .model import Word

XHTML = "http://www.w3.org/1999/xhtml"
BBOX = re.compile(r"bbox (-?\d+) (-?\d+) (-?\d+) (-?\d+)")
_CONFIDENCE = re.compile(r"x_wconf (-?\d+(?:\.\d+)?)")
# Tesseract writes a line of text as one of these, depending on what its layout analysis took it for.
LINE_CLASSES = frozenset({"ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"})
NO_CONFIDENCE = -1.0  # for a word whose title gives no x_wconf (Tesseract always does; other tools may not)


@dataclass(frozen=True)
class Line:
    id: str  # the hOCR element's id, e.g. "line_1_4": how corrections and the portal name a line
    bbox: tuple[int, int, int, int]  # (left, top, right, bottom) in page pixels
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)


@dataclass(frozen=True)
class HocrPage:
    size: tuple[int, int]  # (width, height) of the page image read, px; (0, 0) when the file does not say
    words: tuple[Word, ...]  # every word with text, in reading order, in lines or not
    lines: tuple[Line, ...]  # every text line with an id


def read_hocr(path: Path) -> HocrPage:
    """The page in `path`; raises xml.etree.ElementTree.ParseError when it is not well-formed."""
    return page_of(ET.parse(path).getroot())


def page_of(root: ET.Element) -> HocrPage:
    size = (0, 0)
    words: list[Word] = []
    lines: list[Line] = []
    for element in root.iter():
        kind = element.get("class")
        if kind == "ocrx_word":
            if word := _word(element):
                words.append(word)
        elif _is_line(element):
            lines.append(line_of(element))
        elif kind == "ocr_page" and (found := BBOX.search(element.get("title", ""))):
            size = (int(found.group(3)), int(found.group(4)))
    return HocrPage(size=size, words=tuple(words), lines=tuple(lines))


def line_elements(root: ET.Element) -> Iterator[ET.Element]:
    """The elements under `root` that are text lines with an id (what `Line`s are read from)."""
    return (element for element in root.iter() if _is_line(element))


def line_of(element: ET.Element) -> Line:
    words = (_word(span) for span in element if span.get("class") == "ocrx_word")
    return Line(element.get("id", ""), bbox(element), tuple(word for word in words if word))


def text_of(root: ET.Element) -> str:
    """The page's text as Tesseract's text output gives it: lines one per line, paragraphs (and blocks) apart by
    an empty line."""
    paragraphs = []
    for par in (e for e in root.iter() if e.get("class") == "ocr_par"):
        lines = [line_of(e).text for e in line_elements(par)]
        text = "\n".join(line for line in lines if line)
        if text:
            paragraphs.append(text)
    return "\n\n".join(paragraphs)


def serialized(root: ET.Element) -> str:
    """The page `root` (as parsed from an hOCR file, then changed) as the text of an hOCR file."""
    ET.register_namespace("", XHTML)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode", xml_declaration=False)


def read_lines(path: Path) -> list[Line]:
    return list(read_hocr(path).lines)


def page_size(path: Path) -> tuple[int, int]:
    return read_hocr(path).size


def bbox(element: ET.Element) -> tuple[int, int, int, int]:
    """The element's box; (0, 0, 0, 0) when its title gives none."""
    found = BBOX.search(element.get("title", ""))
    return (int(found.group(1)), int(found.group(2)), int(found.group(3)), int(found.group(4))) if found \
        else (0, 0, 0, 0)


def _is_line(element: ET.Element) -> bool:
    return element.get("class") in LINE_CLASSES and bool(element.get("id"))


def _word(span: ET.Element) -> Word | None:
    """The word a `ocrx_word` element holds, None when it has no text or no box."""
    text = "".join(span.itertext()).strip()
    title = span.get("title", "")
    if not text or not BBOX.search(title):
        return None
    confidence = _CONFIDENCE.search(title)
    return Word(text=text, bbox=bbox(span), conf=float(confidence.group(1)) if confidence else NO_CONFIDENCE)
