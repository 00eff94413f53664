"""Turn catalog records on disk into what the search backends index: the current version of each document,
with the corrections staff made (pipeline/corrections.py) in place of what OCR read."""

from __future__ import annotations

from collections.abc import Iterator

from .archive import Archive
from .backends.search.protocol import IndexedDocument, IndexedPage
from .corrections import current_record, page_text_path
from .errors import DamagedArchiveError


def indexed_document(archive: Archive, record: dict) -> IndexedDocument:
    record = current_record(archive, record)
    meta = record.get("metadata", {})
    pages = tuple(IndexedPage(number=p["number"], text=_page_text(page_text_path(archive, record["id"], p["number"])))
                  for p in record.get("pages", []))
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


def _page_text(path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DamagedArchiveError.of(path, exc) from exc


def all_indexed_documents(archive: Archive,
                          damaged: list[DamagedArchiveError] | None = None) -> Iterator[IndexedDocument]:
    """Every document as indexed. One whose record or page text cannot be read raises DamagedArchiveError, or,
    given a `damaged` list, is put there and passed over: the others are still found (one damaged record made
    every rebuild of the index fail, and with the index lost, every ingest and `reindex` with it)."""
    for record in archive.iter_documents(damaged):
        try:
            yield indexed_document(archive, record)
        except DamagedArchiveError as error:
            if damaged is None:
                raise
            damaged.append(error)


def indexed_documents(archive: Archive, doc_ids, damaged: list[DamagedArchiveError] | None = None
                      ) -> list[IndexedDocument]:
    """The documents `doc_ids` as indexed; a damaged one as in `all_indexed_documents`."""
    found = []
    for doc_id in doc_ids:
        try:
            found.append(indexed_document(archive, archive.load_document(doc_id)))
        except DamagedArchiveError as error:
            if damaged is None:
                raise
            damaged.append(error)
    return found
