"""What every search backend offers: the embedded (Tantivy) one and Elasticsearch, with the same queries and results.

Matching rules every backend follows (the contract tests in tests/test_search_contract.py check them):
  - every word of the query must match on the page (AND); "quoted words" must appear together, as typed
    (after folding); a trailing * makes a word a prefix;
  - a word matches its own form with or without diacritics and case (folding), other inflected forms of it
    in the page's languages (stemming or lemmatization), and, ranked below those, a word OCR misread by
    one character (fuzzy);
  - filters narrow by collection, document type, language and year range; facets count the matching pages
    per value of each.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from ...errors import UsageError
from ...language_codes import (CEDILLA_TO_COMMA, COMMA_TO_CEDILLA, TESSERACT_CODE, TWO_LETTER_CODES,
                               language_of_model)


@dataclass(frozen=True)
class IndexedPage:
    number: int
    text: str


@dataclass(frozen=True)
class IndexedDocument:
    id: str
    collection: str
    title: str
    doc_type: str
    languages: tuple[str, ...]
    years: tuple[int, ...]
    source: str  # the original input path, as text
    pages: tuple[IndexedPage, ...]


MAX_HITS_REACHED = 1_000_000  # the embedded index allocated memory for 2^32 skipped hits and the process died


@dataclass(frozen=True)
class SearchQuery:
    """Free text plus optional filters. The text is plain words, "exact phrases" and prefix* words only."""

    text: str
    collection: str | None = None
    doc_type: str | None = None
    language: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    limit: int = 20
    offset: int = 0
    fuzzy: bool = True  # also match words one OCR error away, ranked below exact and inflected matches

    def __post_init__(self):
        # Checked here for callers of the Python API: the CLI and the portal check their input themselves.
        if not isinstance(self.text, str) or not all(isinstance(v, str | None) for v in
                                                     (self.collection, self.doc_type, self.language)):
            raise UsageError("search text and filters are strings")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (self.limit, self.offset)) or \
                not all(v is None or (isinstance(v, int) and -10_000 <= v <= 10_000) for v in (self.year_from,
                                                                                              self.year_to)):
            raise UsageError("search limit, offset and years are whole numbers (years between -10000 and 10000)")
        if self.limit < 0 or self.offset < 0:
            raise UsageError("search limit and offset must not be negative")
        if self.year_from is not None and self.year_to is not None and self.year_from > self.year_to:
            raise UsageError(f"search years {self.year_from}..{self.year_to} run backwards")
        if self.language_code is not None and not TESSERACT_CODE.match(self.language_code):
            raise UsageError.said("'%(code)s' is not a Tesseract language code (e.g. ron, pol, ukr, deu)",
                                  code=self.language[:50])
        if self.limit + self.offset > MAX_HITS_REACHED:  # a backend collects offset + limit hits to skip them
            raise UsageError(f"search limit and offset reach past hit {MAX_HITS_REACHED:,}: narrow the search")
        # A blank document type filters nothing, as a blank collection or language does (it filtered everything out).
        if self.doc_type is not None and not self.doc_type.strip():
            object.__setattr__(self, "doc_type", None)
        # A collection as ingest stores it (options.Options: composed, one line): typed decomposed or with a space
        # too many, it filtered everything out.
        if self.collection:
            object.__setattr__(self, "collection", " ".join(unicodedata.normalize("NFC", self.collection).split()))

    @property
    def collection_spellings(self) -> tuple[str, ...]:
        """The collection filter as it may be stored: as typed, and with Romanian's ș ț written with the comma or
        with the cedilla (ş ţ), as archives ingested before retrodig wrote one of them stored it. Empty: no filter."""
        if not self.collection:
            return ()
        return tuple(dict.fromkeys((self.collection, self.collection.translate(CEDILLA_TO_COMMA),
                                    self.collection.translate(COMMA_TO_CEDILLA))))

    @property
    def language_code(self) -> str | None:
        """The language filter as the index keeps languages (`ron`), also when typed as its two-letter code
        (`ro`, as the portal's own languages are named: it found nothing); a blank one filters nothing."""
        code = (self.language or "").strip().lower() or None
        return _THREE_LETTER_CODES.get(code, code) if code else None


# ISO 639-1 -> the Tesseract model of that language (not a typeface's: de is deu, not frk).
_THREE_LETTER_CODES = {two: three for three, two in reversed(TWO_LETTER_CODES.items())
                       if three == language_of_model(three)}


@dataclass(frozen=True)
class SearchHit:
    document: str
    source: str
    page: int
    score: float  # higher is better; only comparable within one result set
    snippet: str
    title: str
    collection: str
    doc_type: str
    matches: tuple[str, ...] = ()  # the page's words that matched, as printed (for highlighting and boxes)
    boxes: tuple["WordBox", ...] = ()  # where those words are on the page image (filled from the OCR)
    page_width: int = 0  # size of the page image the boxes refer to, in pixels
    page_height: int = 0


@dataclass(frozen=True)
class WordBox:
    """A matched word on the page image: left, top, right, bottom in pixels of the OCR'd page."""

    word: str
    left: int
    top: int
    right: int
    bottom: int


@dataclass(frozen=True)
class FacetCount:
    value: str
    count: int  # matching pages with this value


FACETS = ("collection", "doc_type", "language", "year")


@dataclass(frozen=True)
class SearchResults:
    total: int  # matching pages, not only those in `hits`
    hits: tuple[SearchHit, ...]
    # For each name in FACETS: counts of matching pages per value, most frequent first (years: in order).
    facets: dict[str, tuple[FacetCount, ...]] = field(default_factory=dict)
    # Documents archived but not in the index yet (an ingest indexes them in batches; a run stopped before it
    # did leaves them to the next ingest or `retrodig reindex`): set by pipeline.api.search, not by a backend.
    not_yet_indexed: int = 0

    def __post_init__(self) -> None:
        # Every facet is there, empty when nothing matched: `facets["year"]` of a search without hits is ().
        if any(name not in self.facets for name in FACETS):
            object.__setattr__(self, "facets", {**dict.fromkeys(FACETS, ()), **self.facets})


class SearchBackend(Protocol):
    def index_documents(self, docs: Iterable[IndexedDocument]) -> None:
        """Add or replace (same id) documents, all of them or none."""

    def remove_document(self, doc_id: str) -> None: ...

    def has_document(self, doc_id: str) -> bool: ...

    def document_ids(self) -> set[str]: ...

    def search(self, query: SearchQuery) -> SearchResults: ...

    def rebuild(self, docs: Iterable[IndexedDocument]) -> int:
        """Build a fresh index from `docs` and swap it in at once; returns the number of documents."""

    def close(self) -> None: ...
