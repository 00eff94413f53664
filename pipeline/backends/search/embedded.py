"""Search without a server: one SQLite file in the archive, with an FTS5 index over analysed page text.

Each page is indexed twice in one FTS5 row: its words folded (see folding.py: FTS5's own diacritic removal
misses letters such as ł or ґ) and their language-tagged stems or lemmas (analysis.py). Two sorted lists of
the words, as written and spelled backwards, find the words one OCR error away from a query word
(embedded_sql.py). The original text is kept for snippets. User input never reaches FTS5 syntax.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ...errors import ArchiveBusyError, ArchiveError
from ...executor import make_executor
from .analysis import analysed_languages, keys_text
from .embedded_sql import (
    SCHEMA, SCHEMA_VERSION, facet_counts, filter_conditions, fts_expressions, fuzzy_candidates,
)
from .folding import fold_word, words
from .protocol import IndexedDocument, SearchHit, SearchQuery, SearchResults
from .query import MIN_FUZZY_LENGTH, QueryTerm, WordMatcher, parse_query
from .snippets import snippet_and_matches

_BUSY_SECONDS = 30.0
_LEAVE_WAL_SECONDS = 5.0
_CACHE_KIB = 128 * 1024
_MMAP_BYTES = 1 << 30


# --- the index -----------------------------------------------------------------------

class EmbeddedSearch:
    """The SearchBackend kept in one SQLite file; one connection per instance."""

    def __init__(self, path: Path, workers: int = 1):
        self.path = Path(path)
        self.workers = workers  # processes that analyse pages during rebuild (the writer is always one)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = _connect(self.path)
        # An outdated index can still be rebuilt (and closed); everything else refuses.
        self._outdated = _is_outdated(self._conn)
        if not self._outdated:
            _prepare(self._conn, self.path, wal=True)
        self._vocabulary = _Vocabulary()

    @property
    def needs_rebuild(self) -> bool:
        """The index was written with another schema: only `rebuild` (and `close`) will work."""
        return self._outdated

    def _usable(self) -> sqlite3.Connection:
        if self._outdated:
            raise IndexOutdatedError(self.path)
        return self._conn

    def index_documents(self, docs: Iterable[IndexedDocument]) -> None:
        conn = self._usable()
        with _transaction(conn):
            for doc in docs:
                _delete_document(conn, doc.id)
                _insert_document(conn, doc, self._vocabulary)

    def remove_document(self, doc_id: str) -> None:
        conn = self._usable()
        with _transaction(conn):
            _delete_document(conn, doc_id)

    def has_document(self, doc_id: str) -> bool:
        row = self._usable().execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return row is not None

    def document_ids(self) -> set[str]:
        return {row[0] for row in self._usable().execute("SELECT id FROM documents")}

    def search(self, query: SearchQuery) -> SearchResults:
        self._usable()
        terms = parse_query(query.text)
        if not terms:
            return SearchResults(total=0, hits=())
        fuzzy = self._fuzzy_candidates(terms) if query.fuzzy else {}
        strict, loose = fts_expressions(terms, fuzzy)
        self._collect_matches(strict, loose, query)
        total = self._conn.execute("SELECT count(*) FROM temp.matched").fetchone()[0]
        if total == 0:
            return SearchResults(total=0, hits=(), facets={})
        facets = facet_counts(self._conn)
        # The best pages are picked from temp.matched alone, and only they are joined: a common word matches
        # tens of thousands of pages. A document's pages have ids in page order, so page_id breaks ties.
        rows = self._conn.execute(
            "SELECT p.doc_id, p.number, p.text, m.badness, d.title, d.collection, d.doc_type, d.source, "
            "d.languages FROM (SELECT * FROM temp.matched ORDER BY tier, badness, doc_id, page_id LIMIT ? OFFSET ?) m "
            "CROSS JOIN pages p ON p.id = m.page_id CROSS JOIN documents d ON d.id = p.doc_id "
            "ORDER BY m.tier, m.badness, m.doc_id, m.page_id",
            (query.limit, query.offset),
        ).fetchall()
        matchers: dict[tuple[str, ...], WordMatcher] = {}  # one per language set: each remembers its words
        hits = []
        for row in rows:
            languages = analysed_languages(row[-1].split())
            matcher = matchers.setdefault(languages, WordMatcher(terms, fuzzy, languages))
            hits.append(_hit(row, matcher))
        return SearchResults(total=total, hits=tuple(hits), facets=facets)

    def _collect_matches(self, strict: str, loose: str, query: SearchQuery) -> None:
        """Fill temp.matched with the pages that match and pass the filters, each with its tier and bm25."""
        where, params = filter_conditions(query)
        # Exact and inflected matches (tier 0) rank above pages found only through OCR-error tolerance (tier 1).
        tier = "0" if strict == loose else (
            "CASE WHEN f.rowid IN (SELECT rowid FROM page_words WHERE page_words MATCH ?) THEN 0 ELSE 1 END")
        tier_params = [] if strict == loose else [strict]
        self._conn.execute("DELETE FROM temp.matched")
        self._conn.execute(
            "INSERT INTO temp.matched (page_id, doc_id, collection, doc_type, tier, badness) "
            f"SELECT f.rowid, p.doc_id, d.collection, d.doc_type, {tier}, bm25(page_words, 2.0, 1.0) "
            "FROM page_words f JOIN pages p ON p.id = f.rowid JOIN documents d ON d.id = p.doc_id "
            f"WHERE page_words MATCH ? {where}",
            [*tier_params, loose, *params],
        )

    def _fuzzy_candidates(self, terms: list[QueryTerm]) -> dict[str, frozenset[str]]:
        """For each long plain word of the query, the indexed words one edit away from it."""
        found = {}
        for term in terms:
            if not term.fuzzy_eligible():
                continue
            close = fuzzy_candidates(self._conn, term.tokens[0])
            if close:
                found[term.tokens[0]] = frozenset(close)
        return found

    def rebuild(self, docs: Iterable[IndexedDocument]) -> int:
        fresh = self.path.with_name(self.path.name + ".new")
        _remove_database_files(fresh)  # left over from an interrupted rebuild
        conn = _open(fresh, wal=False)
        executor = make_executor(self.workers)
        try:
            vocabulary = _Vocabulary()
            with _transaction(conn):
                for outcome in executor.run(analyse_document, docs):
                    if not outcome.ok:
                        raise outcome.error
                    _delete_document(conn, outcome.result.doc.id)  # tolerate the same id twice
                    _insert_analysed(conn, outcome.result, vocabulary)
            conn.execute("INSERT INTO page_words (page_words) VALUES ('optimize')")
            conn.execute("ANALYZE")
            count = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        except BaseException:
            conn.close()
            _remove_database_files(fresh)
            raise
        finally:
            executor.close()
        conn.close()
        self._swap_in(fresh)
        return count

    def close(self) -> None:
        self._conn.close()

    def _swap_in(self, fresh: Path) -> None:
        # Leave WAL mode first: that checkpoints and deletes search.sqlite-wal/-shm, which
        # SQLite would otherwise pair, by name, with the new file and so corrupt it.
        # It only works when no other connection has the index open.
        if not _leave_wal(self._conn):
            _remove_database_files(fresh)
            raise ArchiveBusyError(f"search index {self.path} is open in another process; "
                                   "stop it (e.g. the portal) and rebuild again")
        self._conn.close()
        try:
            os.replace(fresh, self.path)
        finally:
            self._conn = _open(self.path, wal=True)
            self._outdated = False
            self._vocabulary = _Vocabulary()


def _leave_wal(conn: sqlite3.Connection) -> bool:
    # SQLite refuses at once, without its busy wait, while another connection is open;
    # give a concurrent short-lived reader (a `retrodig search`) a few seconds to finish.
    deadline = time.monotonic() + _LEAVE_WAL_SECONDS
    while True:
        try:
            return conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)


def _open(path: Path, wal: bool) -> sqlite3.Connection:
    conn = _connect(path)
    if _is_outdated(conn):
        conn.close()
        raise IndexOutdatedError(path)
    return _prepare(conn, path, wal)


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: transactions are begun explicitly, see _transaction.
    return sqlite3.connect(path, timeout=_BUSY_SECONDS, isolation_level=None)


def _is_outdated(conn: sqlite3.Connection) -> bool:
    """An index written with another schema: searching it would give wrong answers, so it must be rebuilt."""
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        has_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    except sqlite3.DatabaseError:
        return False  # unreadable: _prepare says so
    return has_tables and version != SCHEMA_VERSION


def _prepare(conn: sqlite3.Connection, path: Path, wal: bool) -> sqlite3.Connection:
    try:
        if wal and conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")  # readers keep reading while ingest writes
        conn.execute("PRAGMA temp_store = MEMORY")
        # A bigger page cache and memory-mapped reads: indexing inserts words all over large b-trees, and
        # searches read posting lists and pages at random. NORMAL sync is safe with WAL (no corruption);
        # a power cut may lose the last commits, which the next ingest indexes again (see run.py).
        conn.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        conn.execute(f"PRAGMA mmap_size = {_MMAP_BYTES}")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.executescript(SCHEMA)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ArchiveError(f"search index {path} is unusable ({exc}); "
                           "delete it and run `retrodig reindex`") from exc
    return conn


class IndexOutdatedError(ArchiveError):
    def __init__(self, path: Path):
        super().__init__(f"search index {path} was built by another version of retrodig; "
                         "run `retrodig reindex` to rebuild it")


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:  # SQLite may already have rolled back (disk full, ...)
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class _Vocabulary:
    """Words already written to known_words by this writer, so most pages add only their new words."""

    LIMIT = 2_000_000  # forget (and rely on INSERT OR IGNORE) rather than grow without bound

    def __init__(self):
        self.known: set[str] = set()

    def new_words(self, folded_words: Iterable[str]) -> list[str]:
        fresh = {w for w in folded_words if len(w) >= MIN_FUZZY_LENGTH and w.isalpha()} - self.known
        if len(self.known) > self.LIMIT:
            self.known.clear()
        self.known |= fresh
        return sorted(fresh)


@dataclass(frozen=True)
class AnalysedDocument:
    """A document with each page's folded words and language keys, ready to be written."""

    doc: IndexedDocument
    pages: tuple[tuple[int, str, str, str], ...]  # number, text, folded words, keys


def analyse_document(doc: IndexedDocument) -> AnalysedDocument:
    """The CPU-heavy half of indexing, which worker processes can do while one writer writes."""
    languages = analysed_languages(doc.languages)
    pages = []
    for page in doc.pages:
        printed = words(page.text)
        folded = " ".join(fold_word(word) for word in printed)
        keys = " ".join(filter(None, (keys_text(word, languages) for word in printed)))
        pages.append((page.number, page.text, folded, keys))
    return AnalysedDocument(doc, tuple(pages))


def _insert_document(conn: sqlite3.Connection, doc: IndexedDocument, vocabulary: _Vocabulary) -> None:
    _insert_analysed(conn, analyse_document(doc), vocabulary)


def _insert_analysed(conn: sqlite3.Connection, analysed: AnalysedDocument, vocabulary: _Vocabulary) -> None:
    doc = analysed.doc
    years = sorted(set(doc.years))
    conn.execute(
        "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (doc.id, doc.collection, doc.title, doc.doc_type, _languages_text(doc.languages),
         years[0] if years else None, years[-1] if years else None, doc.source),
    )
    conn.executemany("INSERT INTO document_years VALUES (?, ?)", [(doc.id, year) for year in years])
    conn.executemany("INSERT OR IGNORE INTO document_languages VALUES (?, ?)",
                     [(doc.id, code) for code in _languages_text(doc.languages).split()])
    for number, text, folded, keys in analysed.pages:
        page_id = conn.execute("INSERT INTO pages (doc_id, number, text) VALUES (?, ?, ?)",
                               (doc.id, number, text)).lastrowid
        conn.execute("INSERT INTO page_words (rowid, words, stems) VALUES (?, ?, ?)", (page_id, folded, keys))
        fresh = vocabulary.new_words(folded.split())
        conn.executemany("INSERT OR IGNORE INTO known_words VALUES (?)", [(word,) for word in fresh])
        conn.executemany("INSERT OR IGNORE INTO reversed_words VALUES (?)", [(word[::-1],) for word in fresh])


def _delete_document(conn: sqlite3.Connection, doc_id: str) -> None:
    conn.execute("DELETE FROM page_words WHERE rowid IN (SELECT id FROM pages WHERE doc_id = ?)", (doc_id,))
    conn.execute("DELETE FROM pages WHERE doc_id = ?", (doc_id,))
    conn.execute("DELETE FROM document_years WHERE doc_id = ?", (doc_id,))
    conn.execute("DELETE FROM document_languages WHERE doc_id = ?", (doc_id,))
    conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,))


def _languages_text(languages: Iterable[str]) -> str:
    return " ".join(dict.fromkeys(code.strip().lower() for code in languages if code.strip()))


def _hit(row: tuple, is_match: WordMatcher) -> SearchHit:
    doc_id, number, text, badness, title, collection, doc_type, source, _ = row
    snippet, matches = snippet_and_matches(text, is_match)
    return SearchHit(document=doc_id, source=source, page=number, score=-badness, snippet=snippet, title=title,
                     collection=collection, doc_type=doc_type, matches=matches)


def _remove_database_files(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
