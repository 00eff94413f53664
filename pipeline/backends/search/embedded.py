"""Search without a server: a Tantivy index in the archive's own folder (index/search/).

Tantivy (a Rust search library, through its official Python bindings) keeps the inverted index, ranks with
BM25 while skipping pages that cannot reach the top hits, finds words one OCR error away with a Levenshtein
automaton over its term dictionary, and counts facets from column-stored fields: a common word matching a
hundred thousand pages costs milliseconds. Text analysis stays retrodig's own, shared with the Elasticsearch
backend: each page is indexed as its folded words (folding.py: ł, ґ, ș/ş...) and their language-tagged stems
or lemmas (analysis.py). User input never reaches a query parser (embedded_query.py).
"""

from __future__ import annotations

import functools
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import tantivy
from tantivy import Occur, Query

from ...archive import takes_files
from ...errors import ArchiveError, ArchiveFullError, IndexToRebuildError
from ...executor import make_executor
from .analysis import analysed_languages, keys_text
from .day_keys import date_keys
from .embedded_query import facet_counts, terms_query, with_filters, without
from .embedded_store import IndexFolder, IndexOutdatedError, build_schema, open_writer
from .folding import fold_word, joined_words, rejoined, split_words, words
from .protocol import IndexedDocument, SearchHit, SearchQuery, SearchResults
from .query import QueryTerm, WordMatcher, parse_query
from .snippets import marked_snippet

__all__ = ["EmbeddedSearch", "IndexOutdatedError", "analyse_document"]

_UPDATE_HEAP = 50_000_000  # bytes of indexing memory for an ingest's or a correction's few documents
_REBUILD_HEAP = 400_000_000  # and for a rebuild: fewer, larger segments to merge


# Tantivy's words for index files it cannot decode (overwritten in the middle by a failing disk, say).
_DAMAGE = re.compile(r"An IO error occurred|[Cc]orrupt")


def _names_damage(method):
    """A method reading or writing the live index, whose damaged files become the archive's error naming the cure:
    overwritten in the middle, they made Tantivy fail to decode them or panic in Rust (pyo3's PanicException, a
    BaseException), and the command ended with a traceback as an internal error."""
    @functools.wraps(method)
    def checked(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except ValueError as exc:
            if not _DAMAGE.search(str(exc)):
                raise
            raise IndexToRebuildError(f"the search index {self.path} is damaged ({exc}); run `retrodig reindex`"
                                      ) from exc
        except BaseException as exc:
            if type(exc).__name__ != "PanicException":
                raise
            raise IndexToRebuildError(f"the search index {self.path} is damaged (Tantivy: {exc}); run `retrodig "
                                      "reindex`") from None  # Rust's panic carries no Python traceback worth showing

    return checked


class EmbeddedSearch:
    """The SearchBackend kept in the archive's index/search folder."""

    def __init__(self, path: Path, workers: int = 1, lost: bool = False, kept_elsewhere: str = ""):
        """`lost`: the archive has documents but no index here; `kept_elsewhere`: where the archive's ingests have
        indexed them since this index was written (it lacks those). Searching refuses until a rebuild, as when
        damaged."""
        self.folder = IndexFolder(path)
        self.path = self.folder.path
        self.workers = workers  # processes that analyse pages during rebuild (the writer is always one)
        self._schema = build_schema()
        self._index: tantivy.Index | None = None
        self._generation: str | None = None
        self._shadow: tempfile.TemporaryDirectory | None = None  # see _open_read_only
        # An outdated or damaged index can still be rebuilt (and closed); everything else refuses.
        self._outdated = self.folder.is_outdated()
        self._damaged: ArchiveError | None = None
        if lost:
            self._damaged = IndexToRebuildError(f"the search index {self.path} is missing (the archive has "
                                                "documents); run `retrodig reindex`")
        elif kept_elsewhere:
            self._damaged = IndexToRebuildError(
                f"the archive's documents were last indexed in {kept_elsewhere}, not in the embedded index "
                f"{self.path}, which lacks what was indexed there: search there (search: in retrodig.yaml), or run "
                "`retrodig reindex` to rebuild this one")
        elif not self._outdated:
            try:
                self._open_live()
            except ArchiveError as exc:  # files cut short or overwritten: `reindex`, or the next ingest, mends it
                self._damaged = exc

    @property
    def needs_rebuild(self) -> bool:
        """The index was written by another retrodig, or is damaged: only `rebuild` (and `close`) will work."""
        return self._outdated or self._damaged is not None

    def _open_live(self) -> None:
        folder = self.folder.live_or_new()
        try:
            self._index = tantivy.Index.open(str(folder))
        except ValueError as exc:
            if takes_files(folder):
                raise IndexToRebuildError(f"search index {folder} is unusable ({exc}); run `retrodig reindex`") from exc
            self._index = self._open_read_only(folder)
        self._generation = folder.name

    def _open_read_only(self, folder: Path) -> tantivy.Index:
        """An archive on a read-only file system (a published copy, a read-only share): Tantivy writes a lock
        file beside the index even to read it, and has no read-only mode. It reads the index through a folder of
        links to its files, made where it may write its lock."""
        shadow = tempfile.TemporaryDirectory(prefix="retrodig-index-")  # removed with this object
        for file in folder.iterdir():
            if not file.name.endswith(".lock"):  # the lock files are Tantivy's to make, there
                (Path(shadow.name) / file.name).symlink_to(file.absolute())  # --archive may be relative
        try:
            index = tantivy.Index.open(shadow.name)
        except ValueError as exc:
            shadow.cleanup()
            raise IndexToRebuildError(f"search index {folder} is unusable ({exc}); run `retrodig reindex`") from exc
        self._shadow = shadow
        return index

    def _usable(self) -> tantivy.Index:
        """The live index, reopened if a rebuild swapped in another generation, with the latest commits."""
        if self._outdated:
            raise IndexOutdatedError(self.path)
        if self._damaged is not None:
            raise self._damaged
        if self._index is None or self.folder.current_name() != self._generation:
            self._open_live()
        try:
            self._index.reload()
        except ValueError:  # the generation was swapped out and deleted between the two steps above
            self._open_live()
            self._index.reload()
        return self._index

    # -- writing ------------------------------------------------------------------------------

    def index_documents(self, docs: Iterable[IndexedDocument]) -> None:
        """Add or replace documents: one commit, so all of them land or none."""
        def add_all(writer: tantivy.IndexWriter) -> None:
            for doc in docs:
                _add(writer, analyse_document(doc), replace=True)

        self._write(add_all)

    def remove_document(self, doc_id: str) -> None:
        self._write(lambda writer: writer.delete_documents_by_term("doc_id", doc_id))

    @_names_damage
    def _write(self, change) -> None:
        index = self._usable()
        if self._shadow is not None:  # read through links (see _open_read_only): a commit there would be lost
            raise ArchiveError(f"the search index {self.path / self._generation} cannot be written (its permissions, "
                               "or a read-only disk)")
        writer = open_writer(index, self.path / self._generation, _UPDATE_HEAP)
        try:
            change(writer)
        except BaseException:
            writer.rollback()
            raise
        try:
            writer.commit()
            writer.wait_merging_threads()
        except ValueError as exc:
            raise _refused_write(exc, self.path / self._generation) or exc

    def rebuild(self, docs: Iterable[IndexedDocument]) -> int:
        """Write every document into a new generation, then make it live in one step."""
        folder = self.folder.new_generation()
        executor, writer = None, None
        try:  # whatever fails, the new generation's folder goes with it
            executor = make_executor(self.workers)
            index = tantivy.Index.open(str(folder))
            writer = open_writer(index, folder, _REBUILD_HEAP)
            count = 0
            for outcome in executor.run(analyse_document, docs):
                if not outcome.ok:
                    raise outcome.error
                _add(writer, outcome.result, replace=count > 0)
                count += 1
            writer.commit()
            writer.wait_merging_threads()
            index.reload()
            count = _count_documents(index.searcher(), self._schema)  # the same id given twice counts once
        except BaseException:
            if writer is not None:
                writer.rollback()
                del writer  # its threads stop and its lock goes before the folder is removed
            shutil.rmtree(folder, ignore_errors=True)
            raise
        finally:
            if executor is not None:
                executor.close()
        self.folder.make_live(folder)
        self._outdated, self._damaged = False, None
        self._open_live()
        return count

    # -- reading ------------------------------------------------------------------------------

    @_names_damage
    def has_document(self, doc_id: str) -> bool:
        searcher = self._usable().searcher()
        return searcher.search(_document_record(self._schema, doc_id), 1, count=True).count > 0

    @_names_damage
    def document_ids(self) -> set[str]:
        searcher = self._usable().searcher()
        records = Query.term_query(self._schema, "kind", "document")
        total = _count_documents(searcher, self._schema)
        if not total:
            return set()
        return {searcher.doc(address)["doc_id"][0] for _, address in searcher.search(records, total).hits}

    @_names_damage
    def search(self, query: SearchQuery) -> SearchResults:
        searcher = self._usable().searcher()
        terms = parse_query(query.text)
        if not terms:
            return SearchResults(total=0, hits=())
        fuzzy = query.fuzzy and any(term.fuzzy_eligible() for term in terms)
        strict = with_filters(self._schema, terms_query(self._schema, terms, fuzzy=False), query)
        loose = with_filters(self._schema, terms_query(self._schema, terms, fuzzy=True), query) if fuzzy else strict
        facets, total = facet_counts(searcher, loose)
        if total == 0:
            return SearchResults(total=0, hits=(), facets={})
        # Exact and inflected matches first; pages found only through OCR-error tolerance form a tier below.
        exact = searcher.search(strict, max(1, query.limit), count=fuzzy, offset=query.offset)
        found = [(score, address) for score, address in exact.hits][:query.limit]
        if fuzzy and len(found) < query.limit and total > exact.count:
            rest = searcher.search(without(loose, strict), query.limit - len(found), count=False,
                                   offset=max(0, query.offset - exact.count))
            # Below every exact match, in their own order: scores in (-1, 0).
            found += [(-1.0 / (1.0 + score), address) for score, address in rest.hits]
        matchers: dict[tuple[str, ...], WordMatcher] = {}  # one per language set: each remembers its words
        hits = tuple(_hit(searcher.doc(address), score, terms, matchers, fuzzy) for score, address in found)
        return SearchResults(total=total, hits=hits, facets=facets)

    def close(self) -> None:
        self._index = None
        if self._shadow is not None:
            self._shadow.cleanup()
            self._shadow = None


@dataclass(frozen=True)
class AnalysedPage:
    number: int
    text: str
    words: str  # the page's words folded, in order, joined by spaces
    keys: str  # their language keys (ron_primar), joined by spaces
    word_keys: str  # each word's keys (space-separated), word by word joined by '|': aligned with `words`
    joined: str = ""  # `words` with the words broken over two lines joined (folding.rejoined); "" if none is


@dataclass(frozen=True)
class AnalysedDocument:
    """A document with each page's folded words and language keys, ready to be written."""

    doc: IndexedDocument
    pages: tuple[AnalysedPage, ...]


def analyse_document(doc: IndexedDocument) -> AnalysedDocument:
    """The CPU-heavy half of indexing, which worker processes can do while one writer writes."""
    languages = analysed_languages(doc.languages)
    pages = []
    for page in doc.pages:
        printed = words(page.text)
        keys = [keys_text(word, languages) for word in printed]
        # A word broken over two lines is found whole through the stems field: folded as it is (a key never is,
        # keys are tagged ron_...) and by its keys. Not among `words`, whose order is the printed one.
        joined = [text for word in joined_words(page.text) for text in (fold_word(word), keys_text(word, languages))]
        stems = " ".join(filter(None, keys + joined + date_keys(page.text, languages)))
        again = rejoined(page.text)
        pages.append(AnalysedPage(page.number, page.text, " ".join(fold_word(word) for word in printed), stems,
                                  "|".join(keys), " ".join(fold_word(word) for word in words(again))))
    return AnalysedDocument(doc, tuple(pages))


def _add(writer: tantivy.IndexWriter, analysed: AnalysedDocument, replace: bool) -> None:
    doc = analysed.doc
    if replace:
        writer.delete_documents_by_term("doc_id", doc.id)
    shared = {  # every page has one document type: facet_counts adds the type counts up to the total
        "doc_id": doc.id, "collection": doc.collection, "doc_type": doc.doc_type or "unknown", "title": doc.title,
        "source": doc.source, "language": _languages(doc.languages), "year": sorted(set(doc.years)),
    }
    writer.add_document(tantivy.Document(kind="document", **shared))
    for page in analysed.pages:
        writer.add_document(tantivy.Document(
            kind="page", page=page.number, words=page.words, stems=page.keys, joined=page.joined,
            text=page.text.encode("utf-8"), word_keys=page.word_keys.encode("utf-8"), **shared))


def _refused_write(error: ValueError, folder: Path) -> ArchiveError | None:
    """The archive's error for a commit the disk refused, as Tantivy words Rust's kinds of I/O error; None for
    anything else."""
    said = str(error)
    if "PermissionDenied" in said or "ReadOnlyFilesystem" in said:
        return ArchiveError(f"the search index {folder} cannot be written (its permissions, or a read-only disk)")
    if "StorageFull" in said or "QuotaExceeded" in said:
        return ArchiveFullError(str(folder))
    return None


def _languages(languages: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(code.strip().lower() for code in languages if code.strip()))


def _document_record(schema: tantivy.Schema, doc_id: str) -> Query:
    return Query.boolean_query([(Occur.Must, Query.term_query(schema, "kind", "document")),
                                (Occur.Must, Query.term_query(schema, "doc_id", doc_id))])


def _count_documents(searcher: tantivy.Searcher, schema: tantivy.Schema) -> int:
    return searcher.search(Query.term_query(schema, "kind", "document"), 1, count=True).count


def _hit(stored: tantivy.Document, score: float, terms: list[QueryTerm],
         matchers: dict[tuple[str, ...], WordMatcher], fuzzy: bool) -> SearchHit:
    fields = stored.to_dict()
    languages = analysed_languages(fields.get("language") or ())
    matcher = matchers.setdefault(languages, WordMatcher(terms, languages, fuzzy=fuzzy))
    pieces = split_words(bytes(fields["text"][0]).decode("utf-8"))
    flags, folded = _matched_flags(pieces[1::2], fields, matcher)
    snippet, matches = marked_snippet(pieces, *matcher.marks(pieces, flags, folded))
    return SearchHit(document=fields["doc_id"][0], source=fields["source"][0], page=fields["page"][0],
                     score=float(score), snippet=snippet, title=fields["title"][0],
                     collection=fields["collection"][0], doc_type=fields["doc_type"][0], matches=matches)


def _matched_flags(printed: list[str], fields: dict, matcher: WordMatcher) -> tuple[list[bool], list[str] | None]:
    """Which printed words match alone, judged from the folded words and keys stored with the page: nothing is
    folded or stemmed at search time (that cost about a millisecond per hit); and those folded words."""
    folded = fields["words"][0].split(" ") if fields.get("words") else []
    keys = bytes(fields["word_keys"][0]).decode("utf-8").split("|") if fields.get("word_keys") else []
    if len(printed) == len(folded) == len(keys):
        analysed = list(zip(folded, keys))
        verdict = {pair: matcher.matches_analysed(*pair) for pair in set(analysed)}  # a page repeats its words
        return [verdict[pair] for pair in analysed], folded
    return [matcher(word) for word in printed], None  # not expected: the page was analysed with these words
