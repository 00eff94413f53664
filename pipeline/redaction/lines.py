"""A line of OCR words as one string, so patterns can run over it and a match can be traced back to words
(an IBAN or a phone number is often several OCR words: "RO49 AAAA 1B31 ...", "0722 123 456")."""

from __future__ import annotations

from dataclasses import dataclass

from ..hocr import Line
from ..model import Word


@dataclass(frozen=True)
class LineText:
    words: tuple[Word, ...]
    text: str  # the words joined by single spaces
    starts: tuple[int, ...]  # where each word starts in `text`

    @classmethod
    def of(cls, line: Line) -> "LineText":
        return cls.of_words(line.words)

    @classmethod
    def of_words(cls, words: tuple[Word, ...]) -> "LineText":
        starts, cursor = [], 0
        for word in words:
            starts.append(cursor)
            cursor += len(word.text) + 1
        return cls(words, " ".join(w.text for w in words), tuple(starts))

    def words_in(self, start: int, end: int) -> tuple[Word, ...]:
        """The words that share at least one character with text[start:end]."""
        return tuple(word for word, first in zip(self.words, self.starts)
                     if first < end and first + len(word.text) > start)
