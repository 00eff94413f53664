"""Where the embedded index lives on disk: Tantivy index folders ("generations") under index/search/.

    index/search/CURRENT          the name of the live generation (replaced in one rename)
    index/search/<generation>/    a Tantivy index, and retrodig.json with the schema version it was built with

A rebuild writes a new generation and then points CURRENT at it: readers (a running portal) keep answering
from the old one until their next search, which opens the new one. No process ever sees a half-built index.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import tantivy

from ...errors import ArchiveBusyError, ArchiveError, IndexToRebuildError

SCHEMA_VERSION = 10
CURRENT = "CURRENT"
VERSION_FILE = "retrodig.json"
LEGACY_FILE = "search.sqlite"  # the SQLite index of retrodig before schema 5, next to the index folder
_BUSY_SECONDS = 30.0
_ABANDONED_SECONDS = 3600


def build_schema() -> tantivy.Schema:
    """One Tantivy document per page, plus one per document (kind "document", no words) so that a
    document is known to the index even before its pages are, and can be listed cheaply."""
    schema = tantivy.SchemaBuilder()
    schema.add_text_field("kind", tokenizer_name="raw")
    schema.add_text_field("doc_id", tokenizer_name="raw", stored=True)
    schema.add_integer_field("page", stored=True)
    # Folded words and language-tagged keys (ron_primar), analysed in Python (folding.py, analysis.py) and
    # split on spaces here: both backends analyse alike. Positions for phrases; keys need frequencies only.
    schema.add_text_field("words", tokenizer_name="whitespace", index_option="position", stored=True)
    schema.add_text_field("stems", tokenizer_name="whitespace", index_option="freq")
    # The folded words again with those broken over two lines joined, on pages that have such words only: for
    # phrases and beginnings that run over a break (`words` keeps the printed order, which marks follow).
    schema.add_text_field("joined", tokenizer_name="whitespace", index_option="position")
    # Filters and facets: column-stored ("fast") fields are counted without reading the pages.
    for field in ("collection", "doc_type", "language"):
        schema.add_text_field(field, tokenizer_name="raw", stored=True, fast=True)
    schema.add_integer_field("year", indexed=True, fast=True)
    schema.add_text_field("title", tokenizer_name="raw", stored=True)
    schema.add_text_field("source", tokenizer_name="raw", stored=True)
    schema.add_bytes_field("text", stored=True)  # the page as OCR read it, for snippets; not indexed
    schema.add_bytes_field("word_keys", stored=True)  # each word's keys, aligned with words (for snippets)
    return schema.build()


class IndexFolder:
    """The index/search folder: which generation is live, creating and swapping generations."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def legacy_file(self) -> Path:
        return self.path.parent / LEGACY_FILE

    def current_name(self) -> str | None:
        try:
            return (self.path / CURRENT).read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def current(self) -> Path | None:
        name = self.current_name()
        return self.path / name if name else None

    def is_outdated(self) -> bool:
        """Built by another retrodig (or only the old SQLite index exists): it must be rebuilt."""
        live = self.current()
        if live is None:
            return self.legacy_file.exists()
        try:
            version = json.loads((live / VERSION_FILE).read_text(encoding="utf-8")).get("schema")
        except (OSError, ValueError):
            version = None
        return version != SCHEMA_VERSION

    def new_generation(self) -> Path:
        """A fresh, empty Tantivy index folder (not yet live)."""
        self.path.mkdir(parents=True, exist_ok=True)
        folder = self.path / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        folder.mkdir()
        tantivy.Index(build_schema(), path=str(folder))
        (folder / VERSION_FILE).write_text(json.dumps({"schema": SCHEMA_VERSION}), encoding="utf-8")
        return folder

    def make_live(self, folder: Path) -> None:
        """Point CURRENT at `folder` in one rename, then delete the generations no longer live."""
        with self.lock():
            self._point_at(folder)
        self.legacy_file.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{self.legacy_file}{suffix}").unlink(missing_ok=True)

    def live_or_new(self) -> Path:
        """The live generation; an empty one is made live (once, under the lock) when there is none."""
        live = self.current()
        if live is not None and live.is_dir():
            return live
        with self.lock():
            live = self.current()
            if live is None or not live.is_dir():
                live = self.new_generation()
                self._point_at(live)
        return live

    def _point_at(self, folder: Path) -> None:
        previous = self.current()
        pointer = self.path / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
        pointer.write_text(folder.name + "\n", encoding="utf-8")
        os.replace(pointer, self.path / CURRENT)
        # The generation just replaced, and any left by a rebuild that died (untouched for an hour: a
        # rebuild in progress keeps writing files into its folder).
        abandoned = time.time() - _ABANDONED_SECONDS
        for other in self.path.iterdir():
            if other.is_dir() and other != folder and (other == previous or other.stat().st_mtime < abandoned):
                shutil.rmtree(other, ignore_errors=True)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Serialises the creation and swapping of generations between processes."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            handle = (self.path / ".lock").open("a+")
        except OSError as exc:
            raise ArchiveError(f"cannot write the search index folder {self.path}: {exc.strerror}") from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            handle.close()


def open_writer(index: tantivy.Index, folder: Path, heap_bytes: int) -> tantivy.IndexWriter:
    """Tantivy allows one writer per index; another process's writer is waited for, then refused."""
    deadline = time.monotonic() + _BUSY_SECONDS
    while True:
        try:
            return index.writer(heap_size=heap_bytes, num_threads=1)
        except ValueError as exc:
            if "LockBusy" not in str(exc):
                raise ArchiveError(f"search index {folder} cannot be written: {exc}") from exc
            if time.monotonic() > deadline:
                raise ArchiveBusyError(f"search index {folder} is being written by another process") from exc
            time.sleep(0.2)


class IndexOutdatedError(IndexToRebuildError):
    def __init__(self, path: Path):
        super().__init__(f"search index {path} was built by another version of retrodig; "
                         "run `retrodig reindex` to rebuild it")
