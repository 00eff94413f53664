"""What a clerk typed, as search terms, and how a page's words are judged against them.

Shared by the backends: the embedded index turns terms into Tantivy queries, Elasticsearch into its query
DSL; both use `WordMatcher` to mark the matched words of a page (snippets, word boxes). User input never
reaches an engine's own syntax: it is rebuilt from the words found here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from .analysis import QUERY_LANGUAGES, composed, word_keys
from .day_keys import date_key, dates_in
from .folding import APOSTROPHES, LINE_BREAK, continues, fold, fold_word, word_matches, words

MIN_PREFIX = 2  # "a*" would expand to most of the vocabulary
MIN_FUZZY_LENGTH = 5  # one wrong letter in a shorter word matches too many other words
MAX_FUZZY_CANDIDATES = 30  # Elasticsearch's fuzzy max_expansions

_PHRASE = re.compile(r'"([^"]*)"')
# Typographic double quotes open and close a phrase too: Romanian and Polish keyboards (and phones) type „…”,
# German „…“ and »…«, Ukrainian and Russian «…», English “…”. Single ones (‚…‘) are left alone: ’ is also the
# apostrophe (м’ясо, O’Brien).
_QUOTES = str.maketrans(dict.fromkeys("„“”«»‟", '"'))
# Invisible characters a query copied from a web page or a word processor brings inside its words (a soft hyphen,
# zero-width spaces and joiners, the word joiner, a byte-order mark): Autori\u00adzație was two words, found nowhere.
_INVISIBLE = str.maketrans(dict.fromkeys("\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_STAR = re.compile(rf"[{APOSTROPHES}]?\*")


@dataclass(frozen=True)
class QueryTerm:
    """Folded tokens that must all appear (several = an exact phrase), and the word as typed (for stemming)."""

    tokens: tuple[str, ...]
    prefix: bool = False  # the last token may be the start of a longer word
    typed: str = ""  # a single word as typed, casefolded, diacritics kept
    date: str = ""  # typed as a date in figures: its key, which finds the day however it was printed

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
    # Composed: the words as typed go to the stemmers and Elasticsearch's language analyzers (analysis.composed).
    for index, part in enumerate(_PHRASE.split(composed(text).translate(_QUOTES).translate(_INVISIBLE))):
        if index % 2:
            typed = words(part)  # the words alone: « сім'я » or "primăriei," (spaces, a comma) had no stems
            tokens = tuple(token for token in map(fold, typed) if token)
            if tokens:
                terms.append(QueryTerm(tokens, prefix=_phrase_prefix(part, tokens),
                                       typed=typed[0] if len(tokens) == 1 else ""))
        else:
            terms.extend(_loose_terms(part))
    return terms


def _loose_terms(text: str) -> Iterator[QueryTerm]:
    for glued in text.split():
        folded = [(fold(match.group()), match) for match in word_matches(glued)]
        folded = [(token, match) for token, match in folded if token]
        if len(folded) > 1:
            # Words joined by punctuation, as printed together: a date (12.03.1974), an elision (м'ясо, l'école),
            # a compound (Cluj-Napoca), a number (3,14). They must stand together, as in a quoted phrase; a star
            # after the last makes it a beginning (Cluj-Nap*, 12.03.197*: the star was ignored).
            prefix = _starred(glued, folded[-1][1].end()) and folded[-1][0].isalnum()
            yield QueryTerm(tuple(token for token, _ in folded), prefix=prefix,
                            date="" if prefix else date_key(glued))
        elif folded:
            (token, match), = folded
            starred = _starred(glued, match.end())
            prefix = starred and token.isalnum() and len(token) >= MIN_PREFIX  # a year too: 197*
            yield QueryTerm((token,), prefix=prefix, typed=match.group().casefold())


def _phrase_prefix(part: str, tokens: tuple[str, ...]) -> bool:
    """Whether a quoted phrase ends in a star after its last word: "autorizație de constr*" is the phrase whose
    last word begins so (the star was dropped, and the phrase looked for the word constr)."""
    last = list(word_matches(part))[-1]
    return _starred(part, last.end()) and tokens[-1].isalnum() and (len(tokens) > 1 or len(tokens[0]) >= MIN_PREFIX)


def _starred(glued: str, end: int) -> bool:
    """Whether a star follows the word ending at `end`, right after it or after an apostrophe: сім'* begins
    Ukrainian words with the apostrophe (сім'я, сім'ї), which belongs to them (it was the word сім alone)."""
    return _STAR.match(glued, end) is not None


class WordMatcher:
    """Judges a page's words against the terms, the way the index matched them."""

    def __init__(self, terms: list[QueryTerm], languages: Iterable[str], fuzzy: bool = False):
        # A word alone matches the single words; a phrase's words match only where they stand together (`marks`).
        self._exact = {term.tokens[0] for term in terms if len(term.tokens) == 1}
        self._prefixes = tuple(term.tokens[0] for term in terms if term.prefix and len(term.tokens) == 1)
        self._phrases = tuple((term.tokens, term.prefix) for term in terms if len(term.tokens) > 1)
        self._dates = {term.date for term in terms if term.date}
        self._phrase_words = {token for tokens, _ in self._phrases for token in tokens} - self._exact
        self._keys = frozenset().union(*(term.keys for term in terms)) if terms else frozenset()
        # With OCR-error tolerance on: words one letter away from these (as the index matched them).
        self._tolerant = tuple(term.tokens[0] for term in terms if fuzzy and term.fuzzy_eligible())
        self._languages = tuple(languages)
        self._seen: dict[str, bool] = {}
        self._seen_analysed: dict[tuple[str, str], bool] = {}
        # Stems and lemmas begin like the folded word they come from, so a word whose first two letters
        # begin no key cannot match one: that skips stemming most words of a page.
        self._key_starts = {key.split("_", 1)[1][:2] for key in self._keys}

    def __call__(self, word: str) -> bool:
        known = self._seen.get(word)
        if known is None:
            known = self._seen[word] = self._judge(word)
        return known

    def only_in_phrases(self, folded: str) -> bool:
        """Whether the folded word is a phrase's and no single term's: marked only where the phrase stands."""
        return folded in self._phrase_words

    def marks(self, pieces: list[str], flags: list[bool],
              folded: list[str] | None = None) -> tuple[list[bool], list[range]]:
        """The page's words to mark, and the runs of them that are phrases. `pieces` is the page cut by
        `split_words`, `flags` says which of its words match alone (this matcher's or the index's verdict), and
        `folded` are its words folded when the index keeps them. Added: the words of each phrase where they stand
        together, and both halves of a word broken over two lines (construc- / ție) whose whole matches."""
        printed = pieces[1::2]
        folded = folded if folded is not None else [fold_word(word) for word in printed]
        flags, runs = list(flags), []
        views = [[(word, i, i) for i, word in enumerate(folded)]]
        if self._phrases and any(LINE_BREAK.fullmatch(piece) for piece in pieces[2:-1:2]):
            views.append(self._rejoined(pieces, printed, folded))  # phrases that run over a broken word
        for tokens, prefix in self._phrases:
            for view in views:
                for start in (i for i, (word, _, _) in enumerate(view) if word == tokens[0]):
                    found = [word for word, _, _ in view[start:start + len(tokens)]]
                    if len(found) == len(tokens) and tuple(found[:-1]) == tokens[:-1] and (
                            found[-1].startswith(tokens[-1]) if prefix else found[-1] == tokens[-1]):
                        run = range(view[start][1], view[start + len(tokens) - 1][2] + 1)
                        if run not in runs:
                            runs.append(run)
                            flags[run.start:run.stop] = [True] * len(run)
        if self._dates:
            for run in self._date_runs(pieces):
                flags[run.start:run.stop] = [True] * len(run)
                runs.append(run)
        for i in range(len(printed) - 1):
            if _broken_after(pieces, printed, i) and self(printed[i] + printed[i + 1]):
                flags[i] = flags[i + 1] = True
                runs.append(range(i, i + 2))  # one match: its halves alone are other words (de-/clarației)
        return flags, sorted(runs, key=lambda run: run.start)

    @staticmethod
    def _rejoined(pieces: list[str], printed: list[str], folded: list[str]) -> list[tuple[str, int, int]]:
        """The page's folded words as the index's `joined` field has them, a word broken over two lines joined
        (folding.rejoined): (word, index of its first printed word, index of its last)."""
        view, i = [], 0
        while i < len(printed):
            if i + 1 < len(printed) and _broken_after(pieces, printed, i):
                view.append((fold_word(printed[i] + printed[i + 1]), i, i + 1))
                i += 2
            else:
                view.append((folded[i], i, i))
                i += 1
        return view

    def _date_runs(self, pieces: list[str]) -> Iterator[range]:
        """The words of each date the terms ask for in figures, however it is printed (12.03.1975 or 12 martie 1975
        for 12.3.1975)."""
        spans, offset = [], 0  # where each word stands in the page's text
        for index, piece in enumerate(pieces):
            if index % 2:
                spans.append((offset, offset + len(piece)))
            offset += len(piece)
        for date_start, date_end, key in dates_in("".join(pieces), self._languages):
            if key in self._dates:
                # Each word the date touches: 1975r (Polish's "roku" glued on) is the date's year too.
                inside = [n for n, (start, end) in enumerate(spans) if start < date_end and end > date_start]
                if inside:
                    yield range(inside[0], inside[-1] + 1)

    def _judge(self, word: str) -> bool:
        folded = fold_word(word)
        if self._matches_form(folded):
            return True
        if folded[:2] not in self._key_starts:
            return False
        return not self._keys.isdisjoint(word_keys(word, self._languages))

    def matches_analysed(self, folded: str, keys: str) -> bool:
        """The same judgement for a word analysed at indexing time: its folded form and its keys
        (space-separated), so nothing is folded or stemmed again."""
        known = self._seen_analysed.get((folded, keys))
        if known is None:
            known = self._seen_analysed[(folded, keys)] = self._matches_form(folded) or (
                bool(keys) and (keys in self._keys or not self._keys.isdisjoint(keys.split())))
        return known

    def _matches_form(self, folded: str) -> bool:
        if folded in self._exact:
            return True
        if self._prefixes and folded.startswith(self._prefixes):
            return True
        return any(abs(len(folded) - len(token)) <= 1 and Levenshtein.distance(folded, token, score_cutoff=1) <= 1
                   for token in self._tolerant)


def _broken_after(pieces: list[str], printed: list[str], i: int) -> bool:
    """Whether the page's word `i` and the next are one word broken over two lines (construc- / ție): `pieces` is
    the page cut by `split_words`, `printed` its words."""
    return bool(LINE_BREAK.fullmatch(pieces[2 * i + 2])) and continues(printed[i], printed[i + 1])
