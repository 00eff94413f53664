"""Full-text search over the archive: a backend protocol and its implementations."""

from __future__ import annotations

from pathlib import Path

from ...errors import UsageError
from .embedded import EmbeddedSearch
from .protocol import IndexedDocument, IndexedPage, SearchBackend, SearchHit, SearchQuery, SearchResults

__all__ = [
    "open_search", "EmbeddedSearch", "SearchBackend", "IndexedDocument", "IndexedPage",
    "SearchQuery", "SearchHit", "SearchResults",
]

BACKENDS = ("embedded",)


def open_search(archive_dir: Path, backend: str = "embedded") -> SearchBackend:
    """Open (creating if needed) the search index of the archive at `archive_dir`."""
    if backend == "embedded":
        return EmbeddedSearch(Path(archive_dir) / "index" / "search.sqlite")
    raise UsageError(f"unknown search backend {backend!r} (known: {', '.join(BACKENDS)})")
