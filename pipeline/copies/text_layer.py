"""The copy's invisible text layer is rebuilt from the page's current hOCR without the redacted words: a word
is left out when a box covers any noticeable part of it (a box a clerk drew over half a word takes the word)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..hocr import Line, read_lines
from ..model import Word
from ..redaction.model import Box

MIN_COVERED = 0.10  # of the word's area


def kept_lines(hocr: Path, boxes: list[Box]) -> tuple[list[Line], int]:
    """The page's lines with the covered words dropped, and how many words were dropped."""
    lines, dropped = [], 0
    for line in read_lines(hocr):
        words = tuple(word for word in line.words if not _covered(word, boxes))
        dropped += len(line.words) - len(words)
        if words:
            lines.append(replace(line, words=words))
    return lines, dropped


def _covered(word: Word, boxes: list[Box]) -> bool:
    left, top, right, bottom = word.bbox
    area = max(1, (right - left) * (bottom - top))
    for b_left, b_top, b_right, b_bottom in boxes:
        overlap_x = min(right, b_right) - max(left, b_left)
        overlap_y = min(bottom, b_bottom) - max(top, b_top)
        if overlap_x > 0 and overlap_y > 0 and overlap_x * overlap_y >= MIN_COVERED * area:
            return True
    return False
