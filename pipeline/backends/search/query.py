"""What a clerk typed, as search terms, and how a page's words are judged against them.

Shared by the backends: the embedded index turns terms into FTS5 expressions, Elasticsearch into its query
DSL; both use `WordMatcher` to mark the matched words of a page (snippets, word boxes). User input never
reaches an engine's own syntax: it is rebuilt from the words found here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from .analysis import QUERY_LANGUAGES, word_keys
from .folding import fold, fold_word, word_matches, words

MIN_PREFIX = 2  # "a*" would expand to most of the vocabulary
MIN_FUZZY_LENGTH = 5  # one wrong letter in a shorter word matches too many other words
MAX_FUZZY_CANDIDATES = 30

_PHRASE = re.compile(r'"([^"]*)"')


@dataclass(frozen=True)
class QueryTerm:
    """Folded tokens that must all appear (several = an exact phrase), and the word as typed (for stemming)."""

    tokens: tuple[str, ...]
    prefix: bool = False  # the last token may be the start of a longer word
    typed: str = ""  # a single word as typed, casefolded, diacritics kept

    @property
    def is_word(self) -> bool:
        """A plain word: matched through folding, stemming and OCR-error tolerance."""
        return len(self.tokens) == 1 and not self.prefix

    @property
    def keys(self) -> frozenset[str]:
        return word_keys(self.typed or self.tokens[0], QUERY_LANGUAGES) if self.is_word else frozenset()

    def fuzzy_eligible(self) -> bool:
        return self.is_word and self.tokens[0].isalpha() and len(self.tokens[0]) >= MIN_FUZZY_LENGTH


def parse_query(text: str) -> list[QueryTerm]:
    """Plain words, "quoted phrases" and word* prefixes; everything else is just text."""
    terms = []
    # With a capturing group, split() alternates: outside quotes, inside, outside, ...
    for index, part in enumerate(_PHRASE.split(text)):
        if index % 2:
            tokens = tuple(token for token in map(fold, words(part)) if token)
            if tokens:
                terms.append(QueryTerm(tokens, typed=part.casefold() if len(tokens) == 1 else ""))
        else:
            terms.extend(_loose_terms(part))
    return terms


def _loose_terms(text: str) -> Iterator[QueryTerm]:
    for match in word_matches(text):
        token = fold(match.group())
        if not token:
            continue
        starred = text.startswith("*", match.end())
        prefix = starred and token.isalpha() and len(token) >= MIN_PREFIX
        yield QueryTerm((token,), prefix=prefix, typed=match.group().casefold())


def close_words(word: str, candidates: Iterable[str]) -> list[str]:
    """Candidates exactly one edit (insertion, deletion, substitution) away from `word`."""
    unique = [c for c in set(candidates) if c != word and abs(len(c) - len(word)) <= 1]
    matches = process.extract(word, unique, scorer=Levenshtein.distance, score_cutoff=1, limit=None)
    return sorted(match for match, _, _ in matches)[:MAX_FUZZY_CANDIDATES]


class WordMatcher:
    """Judges a page's words against the terms, the way the index matched them."""

    def __init__(self, terms: list[QueryTerm], fuzzy: dict[str, frozenset[str]], languages: Iterable[str]):
        self._exact = {token for term in terms for token in term.tokens}
        self._prefixes = tuple(term.tokens[-1] for term in terms if term.prefix)
        self._keys = frozenset().union(*(term.keys for term in terms)) if terms else frozenset()
        self._fuzzy = frozenset().union(*fuzzy.values()) if fuzzy else frozenset()
        self._languages = tuple(languages)
        self._seen: dict[str, bool] = {}
        # Stems and lemmas begin like the folded word they come from, so a word whose first two letters
        # begin no key cannot match one: that skips stemming most words of a page.
        self._key_starts = {key.split("_", 1)[1][:2] for key in self._keys}

    def __call__(self, word: str) -> bool:
        known = self._seen.get(word)
        if known is None:
            known = self._seen[word] = self._judge(word)
        return known

    def _judge(self, word: str) -> bool:
        folded = fold_word(word)
        if folded in self._exact or folded in self._fuzzy:
            return True
        if self._prefixes and folded.startswith(self._prefixes):
            return True
        if folded[:2] not in self._key_starts:
            return False
        return not self._keys.isdisjoint(word_keys(word, self._languages))
