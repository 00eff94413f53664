"""The SQL of the embedded index: its schema, FTS5 expressions built from query terms, filters and facets."""

from __future__ import annotations

import sqlite3

from .protocol import FACETS, FacetCount, SearchQuery
from .query import QueryTerm

SCHEMA_VERSION = 2
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
-- Each indexed word (5+ letters) under itself and each form with one letter left out (query.deletion_keys).
CREATE TABLE IF NOT EXISTS fuzzy_keys (
    key TEXT NOT NULL, term TEXT NOT NULL, PRIMARY KEY (key, term)
) WITHOUT ROWID;
CREATE TEMP TABLE IF NOT EXISTS matched (
    page_id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, tier INTEGER NOT NULL, badness REAL NOT NULL
);
"""


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


_FACET_SQL = {
    "collection": "SELECT d.collection, count(*) FROM temp.matched m JOIN documents d ON d.id = m.doc_id "
                  "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
    "doc_type": "SELECT d.doc_type, count(*) FROM temp.matched m JOIN documents d ON d.id = m.doc_id "
                "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
    "language": "SELECT l.language, count(*) FROM temp.matched m JOIN document_languages l ON l.doc_id = m.doc_id "
                "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
    "year": "SELECT y.year, count(*) FROM temp.matched m JOIN document_years y ON y.doc_id = m.doc_id "
            "GROUP BY 1 ORDER BY 1 LIMIT ?",
}


def _limit(facet: str) -> int:
    return 10_000 if facet == "year" else MAX_FACET_VALUES  # every year, for a timeline


def facet_counts(conn: sqlite3.Connection) -> dict[str, tuple[FacetCount, ...]]:
    """Counts of the pages in temp.matched per collection, document type, language and year."""
    return {
        name: tuple(FacetCount(str(value), count)
                    for value, count in conn.execute(_FACET_SQL[name], (_limit(name),)))
        for name in FACETS
    }
