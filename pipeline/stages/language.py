"""`--lang auto`: which language(s) a page is written in, from a first, cheap reading of part of it.

The first reading runs Tesseract with English plus Ukrainian models (Latin and Cyrillic letters) on three
bands of the page's text lines, one from each third of the page: enough words to tell the language by (a third
of the page, read with two models: about half a full reading's cost), and a page in two languages one above the
other shows both.
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
FIRST_READING_SHARE = 0.35  # of the page's height, taken where the text is densest ...
BANDS = 3  # ... in each third of the page: the densest third alone read a Romanian notice above a denser
# Polish one as Polish only (and the Romanian half without its letters)
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
    probe = spread_bands(ocr_image, FIRST_READING_SHARE, BANDS)
    path = tesseract.write_image(probe, work_dir / "language-probe")  # Tesseract is told its dpi
    usable = [code for code in FIRST_READING_LANGUAGES if code in tesseract.installed_languages()] or [FALLBACK]
    try:
        return tesseract.read_text(path, "+".join(usable), timeout, dpi)
    finally:
        path.unlink(missing_ok=True)


def spread_bands(image: np.ndarray, share: float, count: int) -> np.ndarray:
    """The densest band of each of `count` equal parts of the page, `share` of its height together, one below
    the other with a white gap."""
    part = len(image) // count
    height = max(1, int(len(image) * share / count))
    if part <= height:
        return densest_band(image, max(1, int(len(image) * share)))
    rows = (image < 128).sum(axis=1).astype(np.float64)
    reach = max(1, height // 8)  # the parts meet at the emptiest row near each third: not through a line
    cuts = [0, *(_emptiest_near(rows, k * part, reach) for k in range(1, count)), len(image)]
    bands = [densest_band(image[start:stop], height) for start, stop in zip(cuts, cuts[1:])]
    gap = np.full((max(1, height // 20), image.shape[1]), 255, image.dtype)
    return np.ascontiguousarray(np.vstack([piece for band in bands for piece in (gap, band)][1:]))


def densest_band(image: np.ndarray, height: int) -> np.ndarray:
    """The horizontal band about `height` rows high with the most ink (dark pixels), its edges moved to the
    emptiest rows nearby: between two lines of text, not through one (a line cut in half reads as gibberish,
    which the detector gave to some language: an English page came out eng+deu)."""
    rows = (image < 128).sum(axis=1).astype(np.float64)
    if height >= len(rows):
        return image
    # Of the windows holding as much ink, the middle one: a band taller than the ink (a page of one line) has the
    # line in its middle, not at an edge that then moved past it (14 of 21 places of a one-line page sampled no
    # ink at all, and the page was read as English).
    ink = np.convolve(rows, np.ones(height), mode="valid")
    densest = np.flatnonzero(ink == ink.max())
    top = int(densest[len(densest) // 2])
    inked = np.flatnonzero(rows[top:top + height]) + top  # the edges move to empty rows, never past the ink
    first, last = (int(inked[0]), int(inked[-1]) + 1) if len(inked) else (top + height, top)
    reach = max(1, height // 8)
    top, bottom = min(_emptiest_near(rows, top, reach), first), max(_emptiest_near(rows, top + height, reach), last)
    return np.ascontiguousarray(image[top:max(bottom, top + 1)])


def _emptiest_near(rows: np.ndarray, y: int, reach: int) -> int:
    """The row within `reach` of row `y` with the least ink (`rows`: ink per row), the nearest one of several."""
    lo = max(0, y - reach)
    window = rows[lo:min(len(rows), y + reach + 1)]
    emptiest = np.flatnonzero(window == window.min()) + lo
    return int(emptiest[np.argmin(np.abs(emptiest - y))])


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
