"""How close OCR text is to a ground-truth transcription: the character error rate (CER).

Used by the tests and the accuracy benchmark. Layout is not scored: both texts are compared with their
whitespace collapsed to single spaces, since line breaks and indentation depend on the page reader.
"""

from __future__ import annotations

import unicodedata

from rapidfuzz.distance import Levenshtein


def normalize_for_cer(text: str) -> str:
    """NFC, one space between words, no leading or trailing space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def character_error_rate(recognized: str, truth: str) -> float:
    """Edits (insertions, deletions, substitutions) needed to turn `recognized` into `truth`, per truth character.

    Can exceed 1.0 when OCR reads far more than the transcription holds (e.g. letterheads left out of it).
    """
    hyp, ref = normalize_for_cer(recognized), normalize_for_cer(truth)
    if not ref:
        return 0.0 if not hyp else 1.0
    return Levenshtein.distance(hyp, ref) / len(ref)
