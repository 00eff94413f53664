"""Tantivy queries built from query terms and filters, and the facet counts of a query.

User input never reaches a query parser: every word becomes a term, phrase, prefix or fuzzy query object.
"""

from __future__ import annotations

import re

from tantivy import FieldType, Occur, Query, Schema, Searcher

from .protocol import FACETS, FacetCount, SearchQuery
from .query import QueryTerm

WORDS_BOOST = 2.0  # the word as printed weighs more than a shared stem or lemma
MAX_FACET_VALUES = 50
MAX_YEARS = 10_000  # every year, for a timeline
# Tantivy refuses a regex of over 1000 states (one per byte of a literal prefix): a longer prefix, which few words
# of the dictionary can share, is looked up as a phrase prefix, whose cap of 50 expansions it cannot reach.
REGEX_PREFIX_BYTES = 500


def terms_query(schema: Schema, terms: list[QueryTerm], fuzzy: bool) -> Query:
    """Every term must match (AND); each on the folded words, its language keys and, if `fuzzy`, OCR errors."""
    return Query.boolean_query([(Occur.Must, _term_query(schema, term, fuzzy and term.fuzzy_eligible()))
                                for term in terms])


def _term_query(schema: Schema, term: QueryTerm, fuzzy: bool) -> Query:
    if not term.is_word:
        tokens = list(term.tokens)
        if term.prefix and len(tokens) == 1 and len(tokens[0].encode()) <= REGEX_PREFIX_BYTES:
            # A regex over the term dictionary: unlike a phrase prefix, it has no cap on expansions.
            return _printed_or_joined(lambda field: Query.regex_query(schema, field, re.escape(tokens[0]) + ".*"))
        if term.prefix:
            return _printed_or_joined(lambda field: Query.phrase_prefix_query(schema, field, tokens))
        phrase = _printed_or_joined(lambda field: Query.phrase_query(schema, field, tokens))
        if not term.date:
            return phrase
        # A date in figures: as typed, or the same day printed otherwise (its key, in the stems field).
        return Query.boolean_query([(Occur.Should, phrase), (Occur.Should, Query.term_query(schema, "stems",
                                                                                            term.date))])
    word = term.tokens[0]
    options = [Query.boost_query(Query.term_query(schema, "words", word), WORDS_BOOST)]
    # The stems field holds the language keys, and the words a page broke over two lines (analyse_document).
    options += [Query.term_query(schema, "stems", key, index_option="freq") for key in sorted({word, *term.keys})]
    if fuzzy:  # one wrong, missing or extra letter (a swap counts as two, as in the Elasticsearch backend)
        # Two edits would find more misread long words, but cost five times as much (a bigger automaton run
        # over the whole term dictionary): 33 ms a word on 1,000,000 pages, against 7 ms.
        options.append(Query.fuzzy_term_query(schema, "words", word, distance=1, transposition_cost_one=False))
    return Query.boolean_query([(Occur.Should, option) for option in options])


def _printed_or_joined(query_on) -> Query:
    """`query_on(field)` on the words as printed, or with the words broken over two lines joined ("Dealul
    Feleacului" over Felea-/cului): the better of the two scores, not their sum (a page with a broken word holds
    its other words in both fields, and outranked pages without one)."""
    return Query.disjunction_max_query([query_on("words"), query_on("joined")])


def with_filters(schema: Schema, query: Query, search: SearchQuery) -> Query:
    """`query` narrowed by the collection, type, language and year range of `search`."""
    musts = [query]
    if search.collection_spellings:
        musts.append(Query.boolean_query([(Occur.Should, Query.term_query(schema, "collection", spelling))
                                          for spelling in search.collection_spellings]))
    for field, value in (("doc_type", search.doc_type), ("language", search.language_code)):
        if value is not None:
            musts.append(Query.term_query(schema, field, value))
    if search.year_from is not None or search.year_to is not None:
        # Any of the document's years in range; a document without years never matches.
        musts.append(Query.range_query(schema, "year", FieldType.Integer, search.year_from, search.year_to))
    if len(musts) == 1:
        return query
    return Query.boolean_query([(Occur.Must, part) for part in musts])


def without(query: Query, excluded: Query) -> Query:
    return Query.boolean_query([(Occur.Must, query), (Occur.MustNot, excluded)])


_AGGREGATIONS = {
    name: {"terms": {"field": name, "size": MAX_YEARS if name == "year" else MAX_FACET_VALUES}}
    for name in FACETS
}


def facet_counts(searcher: Searcher, query: Query) -> tuple[dict[str, tuple[FacetCount, ...]], int]:
    """Matching pages per collection, document type, language (most first) and year (in order), and the
    number of matching pages (every page has exactly one document type: the type counts add up to it).

    Counted from the column-stored (fast) fields of the matching pages, so the cost does not depend on
    how long the pages are; exact as long as a facet has no more values than are shown.
    """
    found = searcher.aggregate(query, _AGGREGATIONS)
    types = found["doc_type"]
    total = sum(int(bucket["doc_count"]) for bucket in types["buckets"]) + int(types.get("sum_other_doc_count", 0))
    facets = {}
    for name in FACETS:
        counts = [(_value(bucket["key"]), int(bucket["doc_count"])) for bucket in found[name]["buckets"]]
        if name == "year":
            counts.sort(key=lambda item: int(item[0]))
        else:
            counts.sort(key=lambda item: (-item[1], item[0]))
        facets[name] = tuple(FacetCount(value, count) for value, count in counts if count)
    return facets, total


def _value(key) -> str:
    return str(int(key)) if isinstance(key, float) else str(key)
