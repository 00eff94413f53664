"""The SQL of the embedded index: its schema, FTS5 expressions built from query terms, filters and facets."""

from __future__ import annotations

import sqlite3

from .protocol import FACETS, FacetCount, SearchQuery
from .query import QueryTerm, close_words

SCHEMA_VERSION = 4
MAX_FACET_VALUES = 50

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, collection TEXT NOT NULL, title TEXT NOT NULL, doc_type TEXT NOT NULL,
    languages TEXT NOT NULL, year_min INTEGER, year_max INTEGER, source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS document_years (
    doc_id TEXT NOT NULL, year INTEGER NOT NULL, PRIMARY KEY (doc_id, year)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS document_years_by_year ON document_years (year);
CREATE TABLE IF NOT EXISTS document_languages (
    doc_id TEXT NOT NULL, language TEXT NOT NULL, PRIMARY KEY (doc_id, language)
) WITHOUT ROWID;
-- An explicit INTEGER PRIMARY KEY: implicit rowids may change on VACUUM, which would
-- break the link with the FTS rows.
CREATE TABLE IF NOT EXISTS pages (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, number INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pages_by_document ON pages (doc_id);
-- rowid = pages.id. words: the page's words folded, in order; stems: their language-tagged keys (ron_primar),
-- hence '_' as a token character.
CREATE VIRTUAL TABLE IF NOT EXISTS page_words USING fts5 (
    words, stems, tokenize = "unicode61 remove_diacritics 2 tokenchars '_'"
);
-- The indexed words of 5+ letters, as written and spelled backwards, for finding those one OCR error away
-- from a query word (see fuzzy_candidates). FTS5's own term list (fts5vocab) is 6x slower to range-scan.
CREATE TABLE IF NOT EXISTS known_words (word TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reversed_words (word TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TEMP TABLE IF NOT EXISTS matched (
    page_id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, collection TEXT NOT NULL, doc_type TEXT NOT NULL,
    tier INTEGER NOT NULL, badness REAL NOT NULL
);
CREATE TEMP TABLE IF NOT EXISTS matched_documents (
    doc_id TEXT PRIMARY KEY, pages INTEGER NOT NULL
) WITHOUT ROWID;
"""


MIN_SHARED = 3  # letters a candidate must share with the query word's start or end before it is compared
MAX_SCANNED = 20_000  # words read per side; a longer list means the shared letters say too little


def fuzzy_candidates(conn: sqlite3.Connection, word: str) -> list[str]:
    """Indexed words one edit (a wrong, missing or extra letter) away from `word`.

    One edit leaves either the first half or the second half of a word as it was, so the candidates are
    the indexed words that begin like its first half, or end like its second half (looked up backwards),
    compared letter by letter. No table of misspellings is kept: OCR'd archives hold tens of millions of
    distinct words, and this needs only two rows per word.
    """
    start = word[:max(MIN_SHARED, len(word) // 2)]
    end = word[::-1][:max(MIN_SHARED, (len(word) - 1) // 2)]
    found = [row[0] for row in conn.execute(
        "SELECT word FROM known_words WHERE word >= ? AND word < ? LIMIT ?", (start, _after(start), MAX_SCANNED))]
    found += [row[0][::-1] for row in conn.execute(
        "SELECT word FROM reversed_words WHERE word >= ? AND word < ? LIMIT ?", (end, _after(end), MAX_SCANNED))]
    return close_words(word, found)


def _after(prefix: str) -> str:
    """The smallest string greater than every string that starts with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _string(text: str) -> str:
    """An FTS5 string: always quoted, so no user text is ever read as an operator or a column name."""
    return '"' + text.replace('"', '""') + '"'


def _term_expression(term: QueryTerm, fuzzy: frozenset[str]) -> str:
    if not term.is_word:
        phrase = _string(" ".join(term.tokens))
        return f"words : {phrase}{'*' if term.prefix else ''}"
    options = [f"words : {_string(term.tokens[0])}"]
    options += [f"stems : {_string(key)}" for key in sorted(term.keys)]
    options += [f"words : {_string(word)}" for word in sorted(fuzzy)]
    return "(" + " OR ".join(options) + ")"


def fts_expressions(terms: list[QueryTerm], fuzzy: dict[str, frozenset[str]]) -> tuple[str, str]:
    """(strict, loose): every term ANDed; loose also accepts the fuzzy candidates of each word."""
    strict = " AND ".join(_term_expression(term, frozenset()) for term in terms)
    loose = " AND ".join(_term_expression(term, fuzzy.get(term.tokens[0], frozenset())) for term in terms)
    return strict, loose


def filter_conditions(query: SearchQuery) -> tuple[str, list]:
    """SQL to AND onto the MATCH (tables: p = pages, d = documents), and its parameters."""
    sql, params = [], []
    if query.collection is not None:
        sql.append("d.collection = ?")
        params.append(query.collection)
    if query.doc_type is not None:
        sql.append("d.doc_type = ?")
        params.append(query.doc_type)
    if query.language is not None:
        sql.append("EXISTS (SELECT 1 FROM document_languages l WHERE l.doc_id = d.id AND l.language = ?)")
        params.append(query.language.strip().lower())
    if query.year_from is not None or query.year_to is not None:
        # Any of the document's years in range; a document without years never matches.
        sql.append("EXISTS (SELECT 1 FROM document_years y WHERE y.doc_id = d.id "
                   "AND y.year >= ? AND y.year <= ?)")
        params += [query.year_from if query.year_from is not None else -(2**62),
                   query.year_to if query.year_to is not None else 2**62]
    return "".join(f" AND {condition}" for condition in sql), params


# Collection and type are copied into temp.matched as it is filled, so they count without a join. Languages
# and years belong to documents: the matched pages are first counted per document, then joined, so each
# document is looked up once. CROSS JOIN keeps that order (SQLite's planner, without statistics for temp
# tables, would rather scan every document and probe the temp table).
_FACET_SQL = {
    "collection": "SELECT collection, count(*) FROM temp.matched GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
    "doc_type": "SELECT doc_type, count(*) FROM temp.matched GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
    "language": "SELECT l.language, sum(m.pages) FROM temp.matched_documents m "
                "CROSS JOIN document_languages l ON l.doc_id = m.doc_id GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
    "year": "SELECT y.year, sum(m.pages) FROM temp.matched_documents m "
            "CROSS JOIN document_years y ON y.doc_id = m.doc_id GROUP BY 1 ORDER BY 1 LIMIT ?",
}


def _limit(facet: str) -> int:
    return 10_000 if facet == "year" else MAX_FACET_VALUES  # every year, for a timeline


def facet_counts(conn: sqlite3.Connection) -> dict[str, tuple[FacetCount, ...]]:
    """Counts of the pages in temp.matched per collection, document type, language and year."""
    conn.execute("DELETE FROM temp.matched_documents")
    conn.execute("INSERT INTO temp.matched_documents SELECT doc_id, count(*) FROM temp.matched GROUP BY doc_id")
    return {
        name: tuple(FacetCount(str(value), count)
                    for value, count in conn.execute(_FACET_SQL[name], (_limit(name),)))
        for name in FACETS
    }
