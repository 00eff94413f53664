"""Romanian ș and ț with the comma below, as Romanian writes them.

Tesseract's Romanian model reads these letters sometimes with the comma below (ș ț), sometimes with a cedilla
(ş ţ: the Turkish letters, which fonts and keyboards long put in their place). On the corpus's two Romanian
pages it gave both, about half and half (ron_dev_b: 25 with the cedilla, 24 with the comma). Romanian
orthography writes the comma (the Romanian Academy's norm; Unicode has had the comma letters, U+0218-U+021B,
since version 3.0), and so do the transcriptions. A page read with Romanian among its languages gets the comma
letters in all its reading: the text, the words, the hOCR file and the PDF text layer, so that what a clerk
reads, corrects and copies is spelt one way. (Search already finds either: search/folding.py folds both.)
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pikepdf

from ..language_codes import CEDILLA_TO_COMMA, ROMANIAN

if TYPE_CHECKING:  # ocr.py calls this module: no import of it at run time
    from .ocr import OcrOutput

TEXT_SHOWING = {"Tj", "TJ", "'", '"'}  # the content-stream operators that show strings


def romanian_letters(reading: OcrOutput, languages: str) -> OcrOutput:
    """`reading` with ș and ț written with the comma when `languages` (e.g. "ron+hun") include Romanian; its
    hOCR and text-layer files are rewritten in place."""
    if ROMANIAN not in languages.split("+"):
        return reading
    page = reading.page
    text = page.text.translate(CEDILLA_TO_COMMA)
    if text == page.text:
        return reading
    hocr = reading.hocr.read_text(encoding="utf-8")
    reading.hocr.write_text(hocr.translate(CEDILLA_TO_COMMA), encoding="utf-8")
    _respell_text_layer(reading.text_pdf)
    return replace(reading, page=replace(page, text=text)).reloaded()


def _respell_text_layer(path: Path) -> None:
    """Tesseract's text layer shows each word as a string of UTF-16 code units (its font maps them one to one
    to Unicode, and every letter has the same invisible glyph): the letters are changed in those strings."""
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        for page in pdf.pages:
            instructions = [_respelt_instruction(instruction) for instruction in pikepdf.parse_content_stream(page)]
            page.Contents = pdf.make_stream(pikepdf.unparse_content_stream(instructions))
        pdf.save(path)


def _respelt_instruction(instruction):
    if str(instruction.operator) not in TEXT_SHOWING:
        return instruction
    return [_respelt(operand) for operand in instruction.operands], instruction.operator


def _respelt(value):
    if isinstance(value, pikepdf.Array):
        return pikepdf.Array([_respelt(item) for item in value])
    if isinstance(value, pikepdf.String):
        raw = bytes(value)
        if len(raw) % 2 == 0:
            respelt = raw.decode("utf-16-be", errors="surrogatepass").translate(CEDILLA_TO_COMMA)
            return pikepdf.String(respelt.encode("utf-16-be", errors="surrogatepass"))
    return value
