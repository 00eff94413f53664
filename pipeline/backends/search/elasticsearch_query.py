"""The query DSL of the Elasticsearch backend: terms, filters, facets and highlighting, built from query.py's terms.

User text never reaches Elasticsearch's own syntax (no query_string): every clause is built from the words
`query.parse_query` found, the same terms the embedded index turns into Tantivy queries.
"""

from __future__ import annotations

import re

from .elasticsearch_index import LANGUAGES, IndexLayout
from .folding import fold, words
from .protocol import FACETS, FacetCount, SearchQuery
from .query import MAX_FUZZY_CANDIDATES, QueryTerm

MAX_FACET_VALUES = 50
MAX_YEARS = 10_000  # every year, for a timeline
# The folded field ranks above stems and lemmas, which rank above OCR-error tolerance (within one tier;
# pages found only through fuzzy matching form a tier of their own, see ElasticsearchSearch.search).
FOLDED_BOOST = 2.0
FUZZY_BOOST = 0.5
# Highlight marks: private-use characters, which OCR text never contains (unlike "<em>").
MARK_START, MARK_END = "\ue000", "\ue001"
_MARKED = re.compile(f"{MARK_START}(.*?){MARK_END}", re.DOTALL)


def terms_query(terms: list[QueryTerm], layout: IndexLayout, fuzzy: bool) -> dict:
    """Every term must match (AND); each one on the folded text, its language fields and, if `fuzzy`, OCR errors."""
    return {"bool": {"must": [_term_query(term, layout, fuzzy and term.fuzzy_eligible()) for term in terms]}}


def _term_query(term: QueryTerm, layout: IndexLayout, fuzzy: bool) -> dict:
    if term.prefix and len(term.tokens) > 1:  # words typed joined, the last a beginning: Cluj-Nap*
        return _printed_or_joined(lambda field: {"match_phrase_prefix": {
            field: {"query": " ".join(term.tokens), "max_expansions": 50}}})
    if term.prefix:
        return _printed_or_joined(lambda field: {"prefix": {field: {"value": term.tokens[-1]}}})
    if not term.is_word:
        phrase = _printed_or_joined(lambda field: {"match_phrase": {field: " ".join(term.tokens)}})
        if not term.date:
            return phrase
        # A date in figures: as typed, or the same day printed otherwise (its key, in `keys`).
        return {"bool": {"should": [phrase, {"match": {"keys": term.date}}], "minimum_should_match": 1}}
    word = term.tokens[0]
    options = [{"match": {"text": {"query": word, "operator": "and", "boost": FOLDED_BOOST}}}]
    typed = term.typed or word
    for code in layout.languages:
        forms = dict.fromkeys([typed, fold(typed)] if LANGUAGES[code].fold_too else [typed])
        options.append({"match": {f"lang.{code}": {"query": " ".join(forms)}}})
    # `keys` holds the language keys of languages the cluster cannot analyse, and the words a page broke over
    # two lines (page_sources), folded.
    keys = sorted(key for key in term.keys if key.split("_", 1)[0] in layout.keyed_languages)
    options.append({"match": {"keys": {"query": " ".join([word, *keys])}}})
    if fuzzy:
        # One edit (insertion, deletion, substitution: no transpositions) from any letter on, as the embedded
        # index finds them; an OCR misreading of the first letter is as common as any other.
        options.append({"fuzzy": {"text": {"value": word, "fuzziness": 1, "prefix_length": 0,
                                           "transpositions": False, "max_expansions": MAX_FUZZY_CANDIDATES,
                                           "boost": FUZZY_BOOST}}})
    return {"dis_max": {"queries": options, "tie_breaker": 0.3}}


def _printed_or_joined(query_on) -> dict:
    """`query_on(field)` on the text as printed, or with its words broken over two lines joined ("Dealul Feleacului"
    over Felea-/cului): the better of the two scores, not their sum, as in the embedded index."""
    return {"dis_max": {"queries": [query_on("text"), query_on("joined")]}}


def filters(query: SearchQuery) -> list[dict]:
    """Filter clauses for the query's collection, type, language and year range (any of the document's years)."""
    clauses = []
    if query.collection_spellings:
        clauses.append({"terms": {"collection": list(query.collection_spellings)}})
    if query.doc_type is not None:
        clauses.append({"term": {"doc_type": query.doc_type}})
    if query.language_code is not None:
        clauses.append({"term": {"languages": query.language_code}})
    if query.year_from is not None or query.year_to is not None:
        bounds = {"gte": query.year_from, "lte": query.year_to}
        clauses.append({"range": {"years": {key: value for key, value in bounds.items() if value is not None}}})
    return clauses


_FACET_FIELDS = {"collection": "collection", "doc_type": "doc_type", "language": "languages", "year": "years"}
MATCHED = "matched"  # an aggregation counting every matching page, whatever the post_filter keeps


def facet_aggregations() -> dict:
    aggregations = {MATCHED: {"filter": {"match_all": {}}}}
    for name in FACETS:
        if name == "year":
            terms = {"field": "years", "size": MAX_YEARS, "order": {"_key": "asc"}}
        else:
            terms = {"field": _FACET_FIELDS[name], "size": MAX_FACET_VALUES,
                     "order": [{"_count": "desc"}, {"_key": "asc"}]}
        aggregations[name] = {"terms": terms}
    return aggregations


def facet_counts(aggregations: dict) -> dict[str, tuple[FacetCount, ...]]:
    return {name: tuple(FacetCount(_facet_value(bucket["key"]), bucket["doc_count"])
                        for bucket in aggregations[name]["buckets"])
            for name in FACETS}


def _facet_value(key) -> str:
    return str(int(key)) if isinstance(key, float) and key.is_integer() else str(key)


def highlight(layout: IndexLayout) -> dict:
    """The whole text of each searched field, matched words marked: the words Elasticsearch matched."""
    fields = ["text", *(f"lang.{code}" for code in layout.languages)]
    return {"pre_tags": [MARK_START], "post_tags": [MARK_END], "number_of_fragments": 0,
            "fields": {field: {} for field in fields}}


def highlighted_words(highlights: dict[str, list[str]]) -> frozenset[str]:
    """The folded words Elasticsearch marked in any field."""
    found = set()
    for fragments in highlights.values():
        for fragment in fragments:
            for marked in _MARKED.findall(fragment):
                found.update(fold(word) for word in words(marked))
    return frozenset(found)
