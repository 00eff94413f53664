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
    "open_search", "note_kept_in", "EmbeddedSearch", "SearchBackend", "IndexedDocument", "IndexedPage",
    "SearchQuery", "SearchHit", "SearchResults", "FacetCount", "WordBox",
]

KEPT_IN = Path("index") / "kept-in.txt"  # where the archive's ingests and reindexes last indexed its documents


def open_search(archive_dir: Path, settings: SearchSettings | None = None) -> SearchBackend:
    """Open (creating if needed) the search index of the archive at `archive_dir`."""
    settings = settings or SearchSettings()
    # An index lost beside documents (deleted by hand, a cluster wiped, another search.index) is not made again
    # empty: it would answer "no hits" to everything. Searching refuses until `reindex` (or an ingest) rebuilds it.
    has_documents = next(Path(archive_dir).glob("documents/*/document.json"), None) is not None
    # So does an index the archive's ingests left for another (Elasticsearch, then the embedded index again): it
    # lacks what they indexed there, and answered from what it held before without a word.
    elsewhere = _kept_in(archive_dir)
    stale = elsewhere if has_documents and elsewhere not in (None, index_place(settings)) else ""
    if settings.backend == "elasticsearch":
        from .elasticsearch import ElasticsearchSearch  # the client is needed only by archives that use it

        return ElasticsearchSearch(settings, lost=has_documents, kept_elsewhere=stale)
    folder = Path(archive_dir) / "index" / "search"
    index = IndexFolder(folder)
    lost = index.current() is None and not index.legacy_file.exists() and has_documents
    return EmbeddedSearch(folder, workers=os.cpu_count() or 1, lost=lost, kept_elsewhere=stale)


def index_place(settings: SearchSettings) -> str:
    """Where `settings` keep the index, as a person reads it: "the embedded index", or the cluster and alias."""
    if settings.backend == "elasticsearch":  # written with a slash at its end or not, the same cluster
        return f"Elasticsearch at {settings.url.rstrip('/')} (index {settings.index})"
    return "the embedded index"


def note_kept_in(archive_dir: Path, settings: SearchSettings) -> None:
    """Say that the archive's documents are now indexed where `settings` keep them (an ingest, a reindex)."""
    path = Path(archive_dir) / KEPT_IN
    if _kept_in(archive_dir) != index_place(settings):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(index_place(settings) + "\n", encoding="utf-8")


def _kept_in(archive_dir: Path) -> str | None:
    """What note_kept_in wrote last; None for an archive indexed before it was kept (or never)."""
    try:
        return (Path(archive_dir) / KEPT_IN).read_text(encoding="utf-8").strip() or None
    except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError):
        return None
