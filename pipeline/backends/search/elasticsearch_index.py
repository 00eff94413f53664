"""What retrodig keeps in Elasticsearch: one document per page, its text folded and analysed per language.

Fields of a page document:
  - `text`: the page as printed, analysed by `retrodig_folded` (cut into words where folding.words cuts them,
    lowercase, asciifolding, combining marks dropped, and a `mapping` char filter for the Cyrillic and Greek
    letters asciifolding leaves alone, derived from folding.fold so both backends fold alike). Phrases,
    prefixes and OCR-error tolerance (fuzzy) all work on it.
  - `lang.<code>`: the same text for each of the page's languages, analysed by that language's Elasticsearch
    analyzer (stemming or lemmatization). Only the page's own languages are filled, as the embedded index only
    stems a page in its own languages: a German stem of a Romanian word must not match.
  - `keys`: for a language whose analyzer the cluster lacks, the language-tagged keys of analysis.py
    (`ron_primar`), so inflected forms still find each other; see `LANGUAGES` and `missing_analyzer`. And the
    words the page broke over two lines (construc-/ție), joined and folded (folding.joined_words).
  - document metadata (id, collection, title, type, languages, years, source), the page number, and `batch`
    (which `index_documents` call wrote the page, to delete a replaced document's leftover pages).

Why separate `lang.*` fields rather than multi-fields of `text`: a multi-field analyses every page in every
language. Why the built-in language analyzers need the folded text beside the printed one: they stem what is
printed, so `primăria` stems to `primăr` while a clerk's `primariei` stems to `primar`; indexing both forms
(and querying both, see elasticsearch_query.py) joins them, as the embedded index's keys do.

Why fall back to analysis.py's keys rather than refuse a cluster without an analyzer (a missing plugin, or a
server like the osmem test server, which lacks even the romanian and hungarian analyzers): search then stays
as good as the embedded index's, and the warning says which plugin to install before the next reindex.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .analysis import QUERY_LANGUAGES, analysed_languages, composed, word_keys
from .day_keys import date_keys
from .folding import APOSTROPHES, CYRILLIC, fold, joined_words, rejoined, words
from .protocol import IndexedDocument

# Bump when the fields or analysis change: an index built by another version must be rebuilt (`retrodig reindex`).
MAPPING_VERSION = 8
FOLDED_ANALYZER = "retrodig_folded"
ENGLISH_ANALYZER = "retrodig_english"


@dataclass(frozen=True)
class LanguageAnalysis:
    analyzer: str  # an Elasticsearch analyzer: built in, or from `plugin`
    plugin: str | None = None  # the Elasticsearch plugin that provides it, for the message when it is missing
    # Also index (and query) the folded text: for analyzers that stem what is printed without folding, in
    # languages clerks often type without diacritics. Not for Cyrillic (й, ї change the endings the stemmer
    # reads) nor German (its analyzer folds umlauts itself).
    fold_too: bool = False


# Every language a query is analysed in (analysis.QUERY_LANGUAGES), with its Elasticsearch analyzer.
# Romanian, Hungarian, Russian, German and English analyzers are built in; Polish (Stempel) and Ukrainian
# (Morfologik dictionary) come from official plugins that docker/elasticsearch.Dockerfile installs.
LANGUAGES: dict[str, LanguageAnalysis] = {
    "ron": LanguageAnalysis("romanian", fold_too=True),
    "pol": LanguageAnalysis("polish", "analysis-stempel", fold_too=True),
    "ukr": LanguageAnalysis("ukrainian", "analysis-ukrainian"),
    "rus": LanguageAnalysis("russian"),
    "hun": LanguageAnalysis("hungarian", fold_too=True),
    "deu": LanguageAnalysis("german"),
    # English by Snowball's stemmer (Porter2), as the embedded index stems it: the built-in `english` analyzer's
    # Porter stemmer made May and the Romanian mai one word (`may` -> `mai`), and `search May 5` found a
    # Romanian page on Elasticsearch only.
    "eng": LanguageAnalysis(ENGLISH_ANALYZER),
}

# Letters folding.fold changes that asciifolding does not (it only produces ASCII): Cyrillic (ґ→г, й→и, ї→і,
# ё→е, ...) and Greek (accents, final sigma). Latin letters are left to asciifolding, which covers ł, ș/ş, ț/ţ,
# ß, æ, ø, đ and the rest (checked against Lucene's ASCIIFoldingFilter).
_NON_LATIN_BLOCKS = ((0x0370, 0x03FF), (0x0400, 0x052F), (0x1F00, 0x1FFF))


def letter_mappings() -> list[str]:
    """`mapping` char filter rules (`Й=>и`), upper and lower case: the char filter runs before `lowercase`."""
    rules = []
    for first, last in _NON_LATIN_BLOCKS:
        for code in range(first, last + 1):
            letter = chr(code)
            if not letter.isalpha() or unicodedata.combining(letter):
                continue
            folded = fold(letter)
            if folded and folded != letter.lower():
                rules.append(f"{letter}=>{folded}")
    return rules


def index_body(languages: Iterable[str]) -> dict:
    """Settings and mappings of a new index whose `lang.*` fields are analysed by Elasticsearch for `languages`."""
    languages = sorted(languages)
    return {
        "settings": {"analysis": {
            "char_filter": {
                "retrodig_letters": {"type": "mapping", "mappings": letter_mappings()},
                # Decomposed letters (s + combining comma, from some keyboards): asciifolding leaves the lone
                # mark in the word, where folding.fold drops it.
                "retrodig_marks": {"type": "pattern_replace", "pattern": "\\p{M}", "replacement": ""},
                # Words as folding.words cuts them: runs of letters and digits. Alone, the standard tokenizer
                # keeps 12.03.1974, м'ясо and don't whole, which the query's words (12, 03, 1974) never found.
                # An apostrophe between Cyrillic letters is part of the word, and goes (folding.fold): сім'я.
                # Groups, not lookarounds: a regex engine without them (osmem-server's) reads this one too.
                "retrodig_apostrophes": {"type": "pattern_replace",
                                         "pattern": f"([{CYRILLIC}])[{APOSTROPHES}]([{CYRILLIC}])",
                                         "replacement": "$1$2"},
                # Elsewhere it cuts words, the modifier-letter apostrophe (a letter to Unicode) as the others.
                "retrodig_separators": {"type": "pattern_replace",
                                        "pattern": "[^\\p{L}\\p{N}\\p{M}\\s]+|\u02bc", "replacement": " "},
            },
            # Snowball's English stemmer (it drops a possessive 's itself); no stop words, as the embedded index.
            "filter": {"retrodig_english_stemmer": {"type": "stemmer", "language": "porter2"}},
            "analyzer": {FOLDED_ANALYZER: {"type": "custom", "tokenizer": "standard",
                                           "char_filter": ["retrodig_marks", "retrodig_apostrophes",
                                                           "retrodig_separators", "retrodig_letters"],
                                           "filter": ["lowercase", "asciifolding"]},
                         ENGLISH_ANALYZER: {"type": "custom", "tokenizer": "standard",
                                            "filter": ["lowercase", "retrodig_english_stemmer"]}},
        }},
        "mappings": {
            "dynamic": "strict",
            "_meta": {"retrodig": {"version": MAPPING_VERSION, "languages": languages}},
            "properties": {
                "document": {"type": "keyword"},
                "collection": {"type": "keyword"},
                "title": {"type": "keyword", "index": False},
                "doc_type": {"type": "keyword"},
                "languages": {"type": "keyword"},
                "years": {"type": "integer"},
                "source": {"type": "keyword", "index": False},
                "page": {"type": "integer"},
                "batch": {"type": "keyword"},
                "text": {"type": "text", "analyzer": FOLDED_ANALYZER},
                # The text with its words broken over two lines joined, on pages that have such words: phrases and
                # beginnings running over a break are looked for in it too (folding.rejoined).
                "joined": {"type": "text", "analyzer": FOLDED_ANALYZER},
                "lang": {"properties": {code: {"type": "text", "analyzer": LANGUAGES[code].analyzer}
                                        for code in languages}},
                "keys": {"type": "text", "analyzer": "whitespace"},
            },
        },
    }


_MISSING_ANALYZER = re.compile(r"analyzer \[([^\]]+)\] has not been configured")


def missing_analyzer(reason: str) -> str | None:
    """The language whose analyzer a refused index creation names as unknown, if that is why it was refused."""
    match = _MISSING_ANALYZER.search(reason)
    if not match:
        return None
    return next((code for code, spec in LANGUAGES.items() if spec.analyzer == match.group(1)), None)


ALWAYS_KEYED = ("ron", "pol")  # see IndexLayout.keyed_languages


@dataclass(frozen=True)
class IndexLayout:
    """What an existing index holds: which languages Elasticsearch analyses, and which analysis.py keys stand in."""

    version: int
    languages: tuple[str, ...]  # analysed by Elasticsearch, in `lang.<code>`

    @property
    def keyed_languages(self) -> tuple[str, ...]:
        """Query languages whose analysis.py keys are computed here, into `keys`: those the cluster has no
        analyzer for, and Romanian and Polish always. analysis.py joins their forms that Snowball and Stempel
        leave apart (hotărâre/hotărârile, rada/radzie): without its keys, the cluster found less than the
        embedded index."""
        return tuple(code for code in QUERY_LANGUAGES if code not in self.languages or code in ALWAYS_KEYED)

    @classmethod
    def from_mapping(cls, mapping: dict) -> "IndexLayout":
        meta = (mapping.get("_meta") or {}).get("retrodig") or {}
        return cls(version=int(meta.get("version", 0)), languages=tuple(meta.get("languages", ())))


def page_sources(doc: IndexedDocument, layout: IndexLayout, batch: str) -> Iterator[tuple[str, dict]]:
    """(Elasticsearch id, document) for each page of `doc`."""
    languages = [code.strip().lower() for code in doc.languages if code.strip()]
    analysed = analysed_languages(languages)
    native = [code for code in analysed if code in layout.languages]
    keyed = [code for code in analysed if code in layout.keyed_languages]
    shared = {
        "document": doc.id, "collection": doc.collection, "title": doc.title, "doc_type": doc.doc_type or "unknown",
        "languages": list(dict.fromkeys(languages)), "years": sorted(set(doc.years)), "source": doc.source,
        "batch": batch,
    }
    for page in doc.pages:
        source = dict(shared, page=page.number, text=page.text)
        # Words broken over two lines, joined: in `keys` as they are (folded) and by their keys, and after the
        # page in the language fields (for their stems). `text` stays as printed, for phrases and highlights.
        joined = joined_words(page.text)
        if native:
            source["lang"] = {code: _language_text("\n".join([page.text, *joined]), code) for code in native}
        keys = [key for word in words(page.text) + joined for key in sorted(word_keys(word, keyed))] if keyed else []
        dates = date_keys(page.text, analysed)
        if again := rejoined(page.text):
            source["joined"] = again
        if keys or joined or dates:
            source["keys"] = " ".join(keys + [fold(word) for word in joined] + dates)
        yield page_id(doc.id, page.number), source


def page_id(doc_id: str, number: int) -> str:
    return f"{doc_id}-{number}"


def _language_text(text: str, code: str) -> str | list[str]:
    text = composed(text)  # the language analyzers stem composed letters (ș, not s + ̦), without stress marks
    folded = fold(text)
    return [text, folded] if LANGUAGES[code].fold_too and folded != text else text
