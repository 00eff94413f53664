"""Full-text search over the archive: a backend protocol and its implementations."""

from __future__ import annotations

import os
from pathlib import Path

from ...options import SearchSettings
from .embedded import EmbeddedSearch
from .embedded_store import IndexFolder
from .protocol import (
    FacetCount, IndexedDocument, IndexedPage, SearchBackend, SearchHit, SearchQuery, SearchResults, WordBox,
)

__all__ = [
    "open_search", "EmbeddedSearch", "SearchBackend", "IndexedDocument", "IndexedPage",
    "SearchQuery", "SearchHit", "SearchResults", "FacetCount", "WordBox",
]


def open_search(archive_dir: Path, settings: SearchSettings | None = None) -> SearchBackend:
    """Open (creating if needed) the search index of the archive at `archive_dir`."""
    settings = settings or SearchSettings()
    # An index lost beside documents (deleted by hand, a cluster wiped, another search.index) is not made again
    # empty: it would answer "no hits" to everything. Searching refuses until `reindex` (or an ingest) rebuilds it.
    has_documents = next(Path(archive_dir).glob("documents/*/document.json"), None) is not None
    if settings.backend == "elasticsearch":
        from .elasticsearch import ElasticsearchSearch  # the client is needed only by archives that use it

        return ElasticsearchSearch(settings, lost=has_documents)
    folder = Path(archive_dir) / "index" / "search"
    index = IndexFolder(folder)
    lost = index.current() is None and not index.legacy_file.exists() and has_documents
    return EmbeddedSearch(folder, workers=os.cpu_count() or 1, lost=lost)
