"""Turn catalog records on disk into what the search backends index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .archive import Archive
from .backends.search.protocol import IndexedDocument, IndexedPage


def indexed_document(record: dict, doc_dir: Path) -> IndexedDocument:
    meta = record.get("metadata", {})
    pages = tuple(
        IndexedPage(number=p["number"], text=(doc_dir / p["text"]).read_text(encoding="utf-8"))
        for p in record.get("pages", [])
    )
    return IndexedDocument(
        id=record["id"],
        collection=record.get("collection", ""),
        title=meta.get("title", ""),
        doc_type=meta.get("doc_type", "unknown"),
        languages=tuple(meta.get("languages", [])),
        years=tuple(meta.get("years", [])),
        source=record.get("source", ""),
        pages=pages,
    )


def all_indexed_documents(archive: Archive) -> Iterator[IndexedDocument]:
    for record in archive.iter_documents():
        yield indexed_document(record, archive.document_dir(record["id"]))
