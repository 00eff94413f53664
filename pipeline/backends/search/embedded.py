"""Search without a server: one SQLite file, with an FTS5 index over folded page text.

Page text is folded in Python (see folding.py) before FTS5 sees it, because FTS5's own
diacritic removal misses letters such as ł or ґ. The original text is kept beside it
for snippets. User input never reaches FTS5 syntax: queries are rebuilt from words.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ...errors import ArchiveBusyError, ArchiveError
from .folding import fold, word_matches, words
from .protocol import IndexedDocument, SearchHit, SearchQuery, SearchResults

_BUSY_SECONDS = 30.0
_LEAVE_WAL_SECONDS = 5.0
_MIN_PREFIX = 2  # "a*" would expand to most of the vocabulary
_SNIPPET_WORDS = 12
_SNIPPET_CHARS = 200

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, collection TEXT NOT NULL, title TEXT NOT NULL, doc_type TEXT NOT NULL,
    languages TEXT NOT NULL, year_min INTEGER, year_max INTEGER, source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS document_years (
    doc_id TEXT NOT NULL, year INTEGER NOT NULL, PRIMARY KEY (doc_id, year)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS document_years_by_year ON document_years (year);
-- An explicit INTEGER PRIMARY KEY: implicit rowids may change on VACUUM, which would
-- break the link with the FTS rows.
CREATE TABLE IF NOT EXISTS pages (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, number INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pages_by_document ON pages (doc_id);
-- rowid = pages.id; holds the folded text of the page.
CREATE VIRTUAL TABLE IF NOT EXISTS page_words USING fts5 (
    words, tokenize = 'unicode61 remove_diacritics 2'
);
"""


@dataclass(frozen=True)
class QueryTerm:
    """Folded tokens that must all appear in a row (several = an exact phrase)."""

    tokens: tuple[str, ...]
    prefix: bool = False  # the last token may be the start of a longer word


# --- queries -------------------------------------------------------------------------

_PHRASE = re.compile(r'"([^"]*)"')


def parse_query(text: str) -> list[QueryTerm]:
    """Plain words, "quoted phrases" and word* prefixes; everything else is just text."""
    terms = []
    # With a capturing group, split() alternates: outside quotes, inside, outside, ...
    for index, part in enumerate(_PHRASE.split(text)):
        if index % 2:
            tokens = tuple(token for token in map(fold, words(part)) if token)
            if tokens:
                terms.append(QueryTerm(tokens))
        else:
            terms.extend(_loose_terms(part))
    return terms


def _loose_terms(text: str) -> Iterator[QueryTerm]:
    for match in word_matches(text):
        token = fold(match.group())
        if not token:
            continue
        starred = text.startswith("*", match.end())
        yield QueryTerm((token,), prefix=starred and token.isalpha() and len(token) >= _MIN_PREFIX)


def fts_expression(terms: list[QueryTerm]) -> str:
    """An FTS5 query made only of quoted strings (never operators or column names), ANDed."""
    quoted = []
    for term in terms:
        string = '"' + " ".join(term.tokens).replace('"', '""') + '"'
        quoted.append(string + "*" if term.prefix else string)
    return " AND ".join(quoted)


# --- snippets ------------------------------------------------------------------------

def make_snippet(text: str, terms: list[QueryTerm]) -> str:
    """Words around the first matches, from the original text, matches in [brackets]."""
    spans = [match.span() for match in word_matches(text)]
    if not spans:
        return _shorten(" ".join(text.split()))
    matched = _matched_words(text, spans, terms)
    windows = _windows(sorted(matched), len(spans))
    rendered = [_render(text, spans, window, matched) for window in windows]
    if len(windows) == 2 and sum(map(len, rendered)) + 3 > _SNIPPET_CHARS:
        windows, rendered = windows[:1], rendered[:1]
    snippet = " … ".join(rendered)
    if windows[0].start > 0:
        snippet = "… " + snippet
    if windows[-1].stop < len(spans):
        snippet += " …"
    return _shorten(snippet)


def _matched_words(text: str, spans: list[tuple[int, int]], terms: list[QueryTerm]) -> set[int]:
    exact = {token for term in terms for token in term.tokens}
    prefixes = tuple(term.tokens[-1] for term in terms if term.prefix)
    found = set()
    for index, (start, end) in enumerate(spans):
        folded = fold(text[start:end])
        if folded in exact or (prefixes and folded.startswith(prefixes)):
            found.add(index)
    return found


def _windows(matches: list[int], word_count: int) -> list[range]:
    """About 12 words from just before the first match; a shorter second one for a later match."""
    first = matches[0] if matches else 0
    start = max(0, min(first - 3, word_count - _SNIPPET_WORDS))
    windows = [range(start, min(word_count, start + _SNIPPET_WORDS))]
    later = [index for index in matches if index >= windows[0].stop]
    if later:
        second = range(max(windows[0].stop, later[0] - 2), min(word_count, later[0] + 4))
        if second.start == windows[0].stop:  # touching: one window reads better
            windows[0] = range(windows[0].start, second.stop)
        else:
            windows.append(second)
    return windows


def _render(text: str, spans: list[tuple[int, int]], window: range, matched: set[int]) -> str:
    pieces = []
    for index in window:
        start, end = spans[index]
        if pieces:
            pieces.append(re.sub(r"\s+", " ", text[spans[index - 1][1]:start]))
        word = text[start:end]
        pieces.append(f"[{word}]" if index in matched else word)
    return "".join(pieces)


def _shorten(snippet: str) -> str:
    if len(snippet) <= _SNIPPET_CHARS:
        return snippet
    return snippet[:_SNIPPET_CHARS - 1].rstrip() + "…"


# --- the index -----------------------------------------------------------------------

class EmbeddedSearch:
    """The SearchBackend kept in one SQLite file; one connection per instance."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = _open(self.path, wal=True)

    def index_documents(self, docs: Iterable[IndexedDocument]) -> None:
        with _transaction(self._conn):
            for doc in docs:
                _delete_document(self._conn, doc.id)
                _insert_document(self._conn, doc)

    def remove_document(self, doc_id: str) -> None:
        with _transaction(self._conn):
            _delete_document(self._conn, doc_id)

    def has_document(self, doc_id: str) -> bool:
        row = self._conn.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return row is not None

    def document_ids(self) -> set[str]:
        return {row[0] for row in self._conn.execute("SELECT id FROM documents")}

    def search(self, query: SearchQuery) -> SearchResults:
        terms = parse_query(query.text)
        if not terms:
            return SearchResults(total=0, hits=())
        where, params = _conditions(query)
        params = [fts_expression(terms), *params]
        joined = ("FROM page_words JOIN pages p ON p.id = page_words.rowid "
                  f"JOIN documents d ON d.id = p.doc_id WHERE page_words MATCH ? {where}")
        total = self._conn.execute(f"SELECT count(*) {joined}", params).fetchone()[0]
        if total == 0 or query.limit == 0:
            return SearchResults(total=total, hits=())
        rows = self._conn.execute(
            "SELECT p.doc_id, p.number, p.text, bm25(page_words) AS badness, "
            f"d.title, d.collection, d.doc_type, d.source {joined} "
            "ORDER BY badness, p.doc_id, p.number LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        ).fetchall()
        return SearchResults(total=total, hits=tuple(_hit(row, terms) for row in rows))

    def rebuild(self, docs: Iterable[IndexedDocument]) -> int:
        fresh = self.path.with_name(self.path.name + ".new")
        _remove_database_files(fresh)  # left over from an interrupted rebuild
        conn = _open(fresh, wal=False)
        try:
            with _transaction(conn):
                for doc in docs:
                    _delete_document(conn, doc.id)  # tolerate the same id twice
                    _insert_document(conn, doc)
            conn.execute("INSERT INTO page_words (page_words) VALUES ('optimize')")
            count = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        except BaseException:
            conn.close()
            _remove_database_files(fresh)
            raise
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
    # isolation_level=None: transactions are begun explicitly, see _transaction.
    conn = sqlite3.connect(path, timeout=_BUSY_SECONDS, isolation_level=None)
    try:
        if wal and conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")  # readers keep reading while ingest writes
        conn.executescript(_SCHEMA)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ArchiveError(f"search index {path} is unusable ({exc}); "
                           "delete it and run `retrodig reindex`") from exc
    return conn


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


def _insert_document(conn: sqlite3.Connection, doc: IndexedDocument) -> None:
    years = sorted(set(doc.years))
    conn.execute(
        "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (doc.id, doc.collection, doc.title, doc.doc_type, _languages_text(doc.languages),
         years[0] if years else None, years[-1] if years else None, doc.source),
    )
    conn.executemany("INSERT INTO document_years VALUES (?, ?)", [(doc.id, year) for year in years])
    for page in doc.pages:
        page_id = conn.execute("INSERT INTO pages (doc_id, number, text) VALUES (?, ?, ?)",
                               (doc.id, page.number, page.text)).lastrowid
        conn.execute("INSERT INTO page_words (rowid, words) VALUES (?, ?)", (page_id, fold(page.text)))


def _delete_document(conn: sqlite3.Connection, doc_id: str) -> None:
    conn.execute("DELETE FROM page_words WHERE rowid IN (SELECT id FROM pages WHERE doc_id = ?)", (doc_id,))
    conn.execute("DELETE FROM pages WHERE doc_id = ?", (doc_id,))
    conn.execute("DELETE FROM document_years WHERE doc_id = ?", (doc_id,))
    conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,))


def _languages_text(languages: Iterable[str]) -> str:
    """Space-separated codes, so a filter can look for " code " in " " + text + " "."""
    return " ".join(code.strip().lower() for code in languages if code.strip())


def _conditions(query: SearchQuery) -> tuple[str, list]:
    """SQL to AND onto the MATCH, and its parameters."""
    sql, params = [], []
    if query.collection is not None:
        sql.append("d.collection = ?")
        params.append(query.collection)
    if query.doc_type is not None:
        sql.append("d.doc_type = ?")
        params.append(query.doc_type)
    if query.language is not None:
        sql.append("instr(' ' || d.languages || ' ', ?) > 0")
        params.append(f" {query.language.strip().lower()} ")
    if query.year_from is not None or query.year_to is not None:
        # Any of the document's years in range; a document without years never matches.
        sql.append("EXISTS (SELECT 1 FROM document_years y WHERE y.doc_id = d.id "
                   "AND y.year >= ? AND y.year <= ?)")
        params += [query.year_from if query.year_from is not None else -(2**62),
                   query.year_to if query.year_to is not None else 2**62]
    return "".join(f" AND {condition}" for condition in sql), params


def _hit(row: tuple, terms: list[QueryTerm]) -> SearchHit:
    doc_id, number, text, badness, title, collection, doc_type, source = row
    return SearchHit(document=doc_id, source=source, page=number, score=-badness,
                     snippet=make_snippet(text, terms), title=title,
                     collection=collection, doc_type=doc_type)


def _remove_database_files(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
