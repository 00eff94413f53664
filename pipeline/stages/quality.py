"""A quality score per page, from what Tesseract reported about its own reading: pages that were probably
misread are flagged for a person to check (document.json `needs_review`).

Tesseract's word confidences are poorly calibrated one by one but telling in bulk: a well-read page has
most of its letters in words of high confidence; a misread one (faded, handwritten, upside down, a
photo) has many words in the 0-50 range or no words at all.
"""

from __future__ import annotations

from ..model import PageText

CONFIDENT_WORD = 60.0  # a word this confident is most probably read right
MIN_LETTERS = 20  # a page with fewer letters read is empty or unreadable: nothing to score it by


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
