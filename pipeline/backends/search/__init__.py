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
    if settings.backend == "elasticsearch":
        from .elasticsearch import ElasticsearchSearch  # the client is needed only by archives that use it

        return ElasticsearchSearch(settings)
    folder = Path(archive_dir) / "index" / "search"
    # An index deleted by hand beside documents is not made again empty: it would answer "no hits" to everything.
    index = IndexFolder(folder)
    lost = index.current() is None and not index.legacy_file.exists() \
        and next(Path(archive_dir).glob("documents/*/document.json"), None) is not None
    return EmbeddedSearch(folder, workers=os.cpu_count() or 1, lost=lost)
