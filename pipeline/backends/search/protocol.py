"""What every search backend offers: the embedded SQLite one now, Elasticsearch later."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from ...errors import UsageError


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

    def __post_init__(self):
        if self.limit < 0 or self.offset < 0:
            raise UsageError("search limit and offset must not be negative")


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


@dataclass(frozen=True)
class SearchResults:
    total: int  # matching pages, not only those in `hits`
    hits: tuple[SearchHit, ...]


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
