"""The archive folder: read-only masters, one folder per finished document, the search index, run reports.

    <archive>/
      masters/ab/<sha256>.<ext>      byte-identical, read-only copies of the inputs
      documents/<id>/document.json   the catalog record (written last: a document exists once it is there)
      documents/<id>/document.pdf    searchable PDF/A-2b
      documents/<id>/document.txt    plain text of all pages
      documents/<id>/pages/0001.hocr per-page hOCR (word boxes and confidences) and 0001.txt
      index/search/                  embedded search index (rebuildable with `retrodig reindex`)
      runs/<timestamp>.json          one report per ingest
      work/                          scratch space, emptied at the start of each ingest
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import (ArchiveBusyError, ArchiveError, ChangedFileError, DamagedArchiveError, DocumentNotFoundError,
                     UnreadableFileError)

DOCUMENT_FILE = "document.json"
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH  # a master's mode: nobody writes it


class Archive:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.masters = self.root / "masters"
        self.documents = self.root / "documents"
        self.index = self.root / "index"
        self.runs = self.root / "runs"
        self.work = self.root / "work"

    def create(self) -> "Archive":
        """The archive, its folders made, for a writer: each folder must take a new file. A batch found a folder
        it could not write only where it first wrote there (each file failed as an internal error on a read-only
        index folder; a read-only documents folder stopped the batch with one after its first document's pages
        were read)."""
        try:
            for folder in (self.masters, self.documents, self.index, self.runs, self.work):
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArchiveError(f"cannot create the archive folder {self.root}: {exc.strerror}") from exc
        for folder in (self.root, self.masters, self.documents, self.index, self.index / "search", self.runs,
                       self.work):
            if folder.is_dir() and not takes_files(folder):
                raise ArchiveError(f"the archive folder {folder} is not writable (its permissions, or a read-only "
                                   "disk)")
        return self

    def exists(self) -> bool:
        return self.documents.is_dir()

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """One writer at a time: a second ingest into the same archive is refused, not interleaved."""
        try:
            handle = (self.root / ".lock").open("a+")
        except OSError as exc:  # a read-only archive (a published copy, a share): nothing can be written to it
            raise ArchiveError(f"the archive {self.root} cannot be written ({exc.strerror or exc})") from exc
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise ArchiveBusyError(f"another retrodig process is writing to {self.root}") from exc
            yield
        finally:
            handle.close()

    def clear_work(self) -> None:
        """Remove scratch left by an interrupted run (only ever called under the writer lock)."""
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True, exist_ok=True)
        for stray in self.masters.glob("*/.*.part"):
            stray.unlink(missing_ok=True)

    # -- masters ---------------------------------------------------------------------------------
    def master_path(self, sha256: str, suffix: str) -> Path:
        return self.masters / sha256[:2] / f"{sha256}{suffix.lower()}"

    def has_master(self, sha256: str) -> bool:
        """Whether a master of these bytes is kept already (under any ending)."""
        folder = self.masters / sha256[:2]
        return folder.is_dir() and next(folder.glob(f"{sha256}.*"), None) is not None

    def store_master(self, source: Path, sha256: str, suffix: str) -> Path:
        """Copy `source` in as a read-only master (once per checksum, whatever ending it came with: `x.tiff`,
        then `X.TIF`, is one master); the original is only read. A master that no longer has its checksum
        (damaged, `verify` says so) is copied in again from the original."""
        from .stages.preflight import sha256_of

        target = self.master_path(sha256, suffix)
        kept = sorted(target.parent.glob(f"{sha256}.*")) if target.parent.is_dir() else []
        for master in kept:
            if master.is_file() and sha256_of(master) == sha256:
                os.chmod(master, READ_ONLY)  # one made writable (`verify` says so) is read-only again
                return master
        target = kept[0] if kept else target
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        try:
            copied = _copy_hashing(source, partial)
            if copied != sha256:
                raise ChangedFileError(source, "the file changed after it was checked (is it still being written?); "
                                               "run the batch again once it is complete")
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.chmod(partial, READ_ONLY)
        os.replace(partial, target)
        return target

    # -- documents -------------------------------------------------------------------------------
    def document_dir(self, doc_id: str) -> Path:
        return self.documents / doc_id

    def page_hocr(self, doc_id: str, page: int) -> Path:
        return self.document_dir(doc_id) / "pages" / f"{page:04d}.hocr"

    def has_document(self, doc_id: str) -> bool:
        return (self.document_dir(doc_id) / DOCUMENT_FILE).is_file()

    def staging_dir(self, doc_id: str) -> Path:
        return self.work / f"{doc_id}.staging"

    def publish(self, staging: Path, doc_id: str) -> Path:
        """Move a fully written document folder into place in one rename."""
        target = self.document_dir(doc_id)
        if target.exists():  # a forced re-run replaces the old version
            retired = self.work / f"{doc_id}.retired"
            os.replace(target, retired)
            os.replace(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, target)
        return target

    # -- documents published, not yet in the search index ------------------------------------------
    # A document is marked before it is published and unmarked once the index has committed it: a run stopped
    # between the two (killed, SIGTERM, a machine going down) leaves the mark, and the next ingest, whatever its
    # inputs, indexes it (a later batch of other scans left it out of every search, unnoticed).
    @property
    def unindexed(self) -> Path:
        return self.index / "unindexed"

    def mark_unindexed(self, doc_id: str) -> None:
        self.unindexed.mkdir(parents=True, exist_ok=True)
        (self.unindexed / doc_id).touch()

    def mark_indexed(self, doc_ids) -> None:
        for doc_id in doc_ids:
            (self.unindexed / doc_id).unlink(missing_ok=True)

    def unindexed_documents(self) -> list[str]:
        """The marked documents that were published (a mark whose publishing never happened, or has not yet: an
        ingest at work, is left out)."""
        return [doc_id for doc_id in self._marked() if self.has_document(doc_id)]

    def forget_unpublished_marks(self) -> None:
        """Drop the marks of documents a stopped run never published (only under the writer lock: an ingest at work
        marks a document just before it publishes it)."""
        self.mark_indexed(doc_id for doc_id in self._marked() if not self.has_document(doc_id))

    def _marked(self) -> list[str]:
        if not self.unindexed.is_dir():
            return []
        return sorted(path.name for path in self.unindexed.iterdir() if _is_document_id(path.name))

    def load_document(self, doc_id: str) -> dict:
        if not _is_document_id(doc_id) or not self.document_dir(doc_id).is_dir():
            raise DocumentNotFoundError(f"no document '{doc_id}' in the archive {self.root}")
        return read_record(self.document_dir(doc_id) / DOCUMENT_FILE)

    def count_documents(self) -> int:
        if not self.documents.is_dir():
            return 0
        return sum(1 for folder in self.documents.iterdir() if (folder / DOCUMENT_FILE).is_file())

    def iter_documents(self, damaged: list[DamagedArchiveError] | None = None) -> Iterator[dict]:
        """Every catalog record. A damaged one raises DamagedArchiveError, or, given a `damaged` list, is put
        there and passed over (`verify` reports them all)."""
        if not self.documents.is_dir():
            return
        for folder in sorted(self.documents.iterdir()):
            if not _is_document_id(folder.name) or not folder.is_dir():
                continue
            try:  # a document's folder without its record is damaged too: it was searchable, `show` knew nothing
                record = read_record(folder / DOCUMENT_FILE)
            except DamagedArchiveError as error:
                if damaged is None:
                    raise
                damaged.append(error)
                continue
            yield record


def _copy_hashing(source: Path, target: Path) -> str:
    """Copy `source` to `target`; the SHA-256 of the bytes copied. The source failing to be read (gone since it was
    checked, its disk failing) is that file's error; the target failing to be written (a full disk) the archive's."""
    digest = hashlib.sha256()
    try:
        reader = source.open("rb")
    except OSError as exc:
        raise UnreadableFileError(source, f"it could not be opened to be copied into the archive "
                                          f"({'it is gone' if isinstance(exc, FileNotFoundError) else exc.strerror})"
                                  ) from exc
    with reader, target.open("wb") as writer:
        while True:
            try:
                block = reader.read(1 << 20)
            except OSError as exc:
                raise UnreadableFileError(source, f"it could not be read to the end ({exc.strerror})") from exc
            if not block:
                return digest.hexdigest()
            digest.update(block)
            writer.write(block)


def takes_files(folder: Path) -> bool:
    """Whether a file can be made in `folder`, tried: os.access answers for the real user, and root's "yes" is
    wrong where the process lacks root's rights (a container, a service) or the share refuses it."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def made_files(record: dict) -> list[str]:
    """The files the pipeline made for a document, as its record names them (relative to its folder)."""
    named = [record.get("pdf"), record.get("text")]
    named += [page.get(kind) for page in record["pages"] for kind in ("text", "hocr")]
    return [name for name in named if isinstance(name, str) and name]


def checked_file(folder: Path, record: dict, name: str) -> Path:
    """`folder / name`, a file the pipeline made for the document of `record`, once it is there and has the
    checksum it was archived with (records written before retrodig kept checksums: there only); else
    DamagedArchiveError naming it. For what is handed out of the archive: a certified copy of a PDF/A changed
    or swapped for another record's was signed and registered as a true copy."""
    from .stages.preflight import sha256_of

    path = folder / name
    try:
        actual = sha256_of(path)
    except OSError as exc:
        raise DamagedArchiveError.of(path, exc) from exc
    expected = (record.get("checksums") or {}).get(name)
    if expected is not None and actual != expected:
        raise DamagedArchiveError(path, "its checksum is not the one it was archived with")
    return path


def read_record(path: Path) -> dict:
    """A document's catalog record (`document.json`), or DamagedArchiveError naming what is wrong with it."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DamagedArchiveError.of(path, exc) from exc
    if not isinstance(record, dict) or record.get("id") != path.parent.name \
            or not isinstance(record.get("pages"), list):
        raise DamagedArchiveError(path, "not the catalog record of this document")
    files = record.get("files", [])
    if not isinstance(files, list) or not all(
            isinstance(entry, dict) and isinstance(entry.get("master"), str) and isinstance(entry.get("sha256"), str)
            for entry in files):  # a field renamed by bit rot or a hand's edit failed `verify` with an internal error
        raise DamagedArchiveError(path, "its list of files lacks a master's name or checksum")
    if not all(isinstance(page, dict) and isinstance(page.get("number"), int) for page in record["pages"]):
        raise DamagedArchiveError(path, "its list of pages lacks a page's number")
    # Read by every command that lists, indexes or shows documents: one of another shape ("metadata": null) made
    # each of them an internal error, `reindex` and, with the index lost, every ingest.
    if not isinstance(record.get("metadata", {}), dict) or not all(
            isinstance(record.get(field, ""), str) for field in ("collection", "source", "created", "pdf", "text")):
        raise DamagedArchiveError(path, "its catalog fields are not those of a record")
    return record


def _is_document_id(value: str) -> bool:
    return isinstance(value, str) and len(value) == 16 and all(c in "0123456789abcdef" for c in value)
