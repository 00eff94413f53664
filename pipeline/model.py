"""Plain data passed between stages. Frozen, picklable, no behaviour beyond small helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

PixelBox = tuple[int, int, int, int]  # (left, top, right, bottom) in page pixels


@dataclass(frozen=True)
class Word:
    """One OCR word: its text, its box in page pixels (left, top, right, bottom), its confidence 0-100."""

    text: str
    bbox: tuple[int, int, int, int]
    conf: float


@dataclass(frozen=True)
class PageText:
    """What OCR read on one page."""

    number: int  # 1-based page number within the document
    text: str
    words: tuple[Word, ...] = ()
    width: int = 0
    height: int = 0
    dpi: int = 300

    @property
    def mean_confidence(self) -> float:
        """Mean word confidence weighted by word length; 0.0 for a page with no words."""
        weights = [len(w.text) for w in self.words if w.conf >= 0]
        if not weights:
            return 0.0
        total = sum(len(w.text) * w.conf for w in self.words if w.conf >= 0)
        return total / sum(weights)


@dataclass(frozen=True)
class FoundDate:
    """A date found in the text: ISO date (yyyy-mm-dd, or yyyy-mm / yyyy when partial) and the text it came from."""

    iso: str
    year: int
    text: str
    page: int


@dataclass(frozen=True)
class DocumentMetadata:
    """What the metadata stage derives from a document's pages."""

    page_count: int
    languages: tuple[str, ...]
    mean_confidence: float
    dates: tuple[FoundDate, ...] = ()
    title: str = ""
    doc_type: str = "unknown"
    doc_type_reason: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted({d.year for d in self.dates}))
