"""Fraktur: a page set in blackletter type is read with Tesseract's Fraktur model.

German was printed in Fraktur until the 1940s, in Germany and wherever German-speaking offices and presses
worked (Transylvania, Galicia, Bukovina, Prussian Poland). Tesseract's German model (`deu`) takes Fraktur for a
Latin typeface: on the corpus's 1784 Kant page it misreads one letter in eight (CER 0.124), its German Fraktur
model (`frk`, Debian: tesseract-ocr-frk) one in fifteen (0.068). The Fraktur model reads Latin type worse, so
it cannot simply be added to every German reading.

Whether a page is in Fraktur shows in its letter shapes, which Tesseract's orientation and script detector
classifies (Latin, Fraktur, Cyrillic, ...). Asking it costs 0.3-0.5 s a page (a reading: 1-6 s), so only a
page whose first reading came out poor (quality below the profile's `quality.fraktur_check_below`) is asked: a
page that reads well as Latin type needs no second look, and a Fraktur page read as Latin type does not read
well. A page the detector calls Fraktur is read again with the Fraktur model in German's place, and the reading
with the higher quality score is kept.

The detector alone is not enough: on 216 scan variants of the corpus's real pages (bench/scan_variants.py) it
called Latin typescripts Fraktur with confidence up to 7.9. The quality score settles it. Read with the Fraktur
model, the eight German Latin-type pages and three poor variants of them scored 0.10-0.24 lower than with
German (and read worse, every one); the Kant page and its variants scored 0.10-0.25 higher (and read better).
"""

from __future__ import annotations

import cv2
import numpy as np

from .._exec import tesseract
from ..language_codes import FRAKTUR_MODELS

_FRAKTUR_MODEL_OF = {language: model for model, language in FRAKTUR_MODELS.items()}  # deu -> frk
FRAKTUR_SCRIPT = "Fraktur"  # the detector's name for the script
# Cleaned corpus pages: Fraktur named with confidence 13-17 where it was (Kant, two DIBCO 2011 strips), and once
# where it was not (1.6). Scan variants: 3.8-29 on Kant's nine (eight over this bar), 0.1-7.9 on Latin type (three
# over).
MIN_SCRIPT_CONFIDENCE = 5.0


def fraktur_languages(languages: str) -> str | None:
    """`languages` (Tesseract's "ron+deu") with each language's Fraktur model in its place ("ron+frk"); None
    when none of them has one, or the model is not installed."""
    codes = languages.split("+")
    swapped = [_FRAKTUR_MODEL_OF.get(code, code) for code in codes]
    if swapped == codes or not set(swapped) <= tesseract.installed_languages():
        return None
    return "+".join(dict.fromkeys(swapped))


def is_fraktur(page: np.ndarray) -> bool:
    """Whether the detector sees Fraktur type on `page` (the upright grey or black-and-white OCR image)."""
    _, binary = cv2.threshold(page, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    found = tesseract.detect_script(binary)
    return found is not None and found[0] == FRAKTUR_SCRIPT and found[1] >= MIN_SCRIPT_CONFIDENCE


def fraktur_reading_languages(languages: str, page: np.ndarray) -> str | None:
    """The languages to read the page again with, in Fraktur, after a poor first reading with `languages`;
    None when none of them has a Fraktur model or the page is not in Fraktur."""
    fraktur = fraktur_languages(languages)
    if fraktur is None or not is_fraktur(page):
        return None
    return fraktur
