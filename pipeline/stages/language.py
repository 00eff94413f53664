"""`--lang auto`: which language(s) a page is written in, from a first, cheap reading of part of it.

The first reading runs Tesseract with English plus Ukrainian models (Latin and Cyrillic letters) on a band
of the page's text lines: enough words to tell the language by, about a third of a full reading's cost.
lingua (a statistical language detector) then names the languages and their share of the words; every
language with a real share is kept, so a Romanian page with Hungarian passages is read with `ron+hun`.
Only languages whose Tesseract data is installed are candidates.
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import numpy as np

from .._exec import tesseract

FIRST_READING_LANGUAGES = ("eng", "ukr")  # one Latin and one Cyrillic model read every candidate's letters
FIRST_READING_SHARE = 0.35  # of the page's height, taken where the text is densest
MIN_SHARE = 0.2  # a language must hold this share of the detected words to be read with
MIN_WORDS = 3
MAX_LANGUAGES = 3
FALLBACK = "eng"
CYRILLIC_LANGUAGES = {"ukr", "rus", "bel", "bul", "mkd", "srp"}


def detect_page_languages(ocr_image: np.ndarray, dpi: int, work_dir: Path, timeout: float) -> str:
    """Tesseract language codes for this page, joined with + (most used first); `eng` if nothing is found."""
    text = first_reading(ocr_image, dpi, work_dir, timeout)
    return "+".join(languages_of(text)) or FALLBACK


def first_reading(ocr_image: np.ndarray, dpi: int, work_dir: Path, timeout: float) -> str:
    band = densest_band(ocr_image, FIRST_READING_SHARE)
    path = tesseract.write_image(band, work_dir / "language-probe")  # Tesseract is told its dpi
    usable = [code for code in FIRST_READING_LANGUAGES if code in tesseract.installed_languages()] or [FALLBACK]
    try:
        return tesseract.read_text(path, "+".join(usable), timeout, dpi)
    finally:
        path.unlink(missing_ok=True)


def densest_band(image: np.ndarray, share: float) -> np.ndarray:
    """The horizontal band of `share` of the page's height with the most ink (dark pixels)."""
    rows = (image < 128).sum(axis=1).astype(np.float64)
    height = max(1, int(len(rows) * share))
    if height >= len(rows):
        return image
    sums = np.convolve(rows, np.ones(height), mode="valid")
    top = int(np.argmax(sums))
    return np.ascontiguousarray(image[top:top + height])


def languages_of(text: str) -> list[str]:
    """Installed Tesseract codes of the languages that hold a real share of `text`'s words."""
    detector = _detector()
    if detector is None or len(text.split()) < MIN_WORDS:
        return []
    words: Counter[str] = Counter()
    for section in detector.detect_multiple_languages_of(text):
        code = section.language.iso_code_639_3.name.lower()
        # Only the section's words written in the language's own alphabet count for it. The first reading's
        # Cyrillic model turns some words of a Latin page into Cyrillic letters, and lingua then gave whole
        # sections of Latin words to Ukrainian (a Slovak typescript came out as pol+ukr).
        cyrillic = code in CYRILLIC_LANGUAGES
        words[code] += sum(1 for word in text[section.start_index:section.end_index].split()
                           if _is_cyrillic(word) == cyrillic)
    total = sum(words.values())
    if not total:
        return []
    kept = [code for code, count in words.most_common() if count >= MIN_SHARE * total and count >= MIN_WORDS]
    return kept[:MAX_LANGUAGES] or [words.most_common(1)[0][0]]


def _is_cyrillic(word: str) -> bool | None:
    """Whether a word is written mostly in Cyrillic letters; None for a word without letters."""
    letters = [c for c in word if c.isalpha()]
    if not letters:
        return None
    return sum(1 for c in letters if "\u0400" <= c <= "\u04ff") * 2 > len(letters)


@functools.cache
def _detector():
    try:
        from lingua import Language, LanguageDetectorBuilder
    except ImportError:  # pragma: no cover - lingua is a dependency; without it auto falls back to eng
        return None
    installed = tesseract.installed_languages()
    candidates = [lang for lang in Language.all() if lang.iso_code_639_3.name.lower() in installed]
    if len(candidates) < 2:
        return None
    return LanguageDetectorBuilder.from_languages(*candidates).build()
