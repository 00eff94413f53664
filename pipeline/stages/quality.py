"""A quality score per page, from what Tesseract reported about its own reading: pages that were probably
misread are flagged for a person to check (document.json `needs_review`).

Tesseract's word confidences are poorly calibrated one by one but telling in bulk: a well-read page has
most of its letters in words of high confidence; a misread one (faded, handwritten, upside down, a
photo) has many words in the 0-50 range or no words at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..model import PageText

if TYPE_CHECKING:
    from ..hocr import Line

CONFIDENT_WORD = 60.0  # a word this confident is most probably read right
MIN_LETTERS = 20  # a page with fewer letters read is empty or unreadable: nothing to score it by
MIN_LINE_LETTERS = 3  # fewer letters and digits (a speck read as "k", a rule as "|"): nothing to judge by


def page_quality(page: PageText) -> float:
    """0.0 (unreadable) .. 1.0 (every letter in a confident word), rounded to 2 places."""
    words = [w for w in page.words if w.conf >= 0 and w.text.strip()]
    letters = sum(len(w.text) for w in words)
    if letters < MIN_LETTERS:
        return 0.0
    confident = sum(len(w.text) for w in words if w.conf >= CONFIDENT_WORD)
    mean = sum(len(w.text) * w.conf for w in words) / letters / 100
    return round(0.5 * mean + 0.5 * confident / letters, 2)


def needs_review(quality: float, threshold: float) -> bool:
    return quality < threshold


def unsure_lines(lines: Sequence[Line], below: float) -> tuple[Line, ...]:
    """The text lines whose words Tesseract read with a mean confidence (0-100, weighted by the words' length)
    below `below`. On a page of print they are what is not print: handwriting, signatures and stamps
    are read as strings of low-confidence guesses. Two typescripts of the corpus with handwriting, read with
    the handwritten-mixed profile (NISKO_DE_04: a dozen signatures; JMP020_02: notes, a signature, a stamp):
    typed lines 63-97, handwritten ones 5-50. On three more typescripts, three lines of print came out under 50
    as well (a badly scanned typed line, a line's last word alone, a letterhead's line), which a person checking
    the page should see too. A page of such lines may still score well as a whole, since its print outweighs them."""
    return tuple(line for line in lines if (confidence := line_confidence(line)) is not None and confidence < below)


def line_confidence(line: Line) -> float | None:
    """The mean confidence (0-100) of the line's words, weighted by their length; None when its words with a
    confidence hold fewer than MIN_LINE_LETTERS letters and digits (nothing to judge by)."""
    words = [word for word in line.words if word.conf >= 0]
    if sum(ch.isalnum() for word in words for ch in word.text) < MIN_LINE_LETTERS:
        return None
    return sum(len(word.text) * word.conf for word in words) / sum(len(word.text) for word in words)
