"""Street addresses: where someone lives, written on civil-status records ("domiciliat în str. Avram Iancu nr. 12,
ap. 3", "zam. ul. Długa 5 m. 3", "проживає: вул. Шевченка, 12, кв. 4", "Fő utca 12", "Hauptstraße 5").

A street is found by its word: before its name in Romanian, Polish, Ukrainian and Russian ("str.", "ul.", "вул."),
after it in Hungarian, German and English ("utca", "-straße", "Street"); the words are per language in
configs/redaction.yaml. The street's name and its house number are proposed, with the flat's parts that follow
("bl. A2, sc. 1, ap. 12", "m. 3", "кв. 4"). Only with a house number: a street named alone is a place (a square, a
road a plot lies on), not someone's home. Written by hand: the address parsers there are (libpostal) need a
2 GB model and know no OCR words to box.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..model import Word
from .names import fold

MAX_STREET_WORDS = 4  # words of a street's name ("Mihail Kogălniceanu", "1 Decembrie 1918", "Tadeusza Kościuszki")
# A house number: 12, 12a, 12/3, 12-14, "nr.12"; a number marker before it may be a word of its own ("nr. 12").
_HOUSE_NUMBER = re.compile(r"^(?:nr\.?|no\.?|№)?\d{1,4}[a-zа-яії]?(?:[/-]\d{1,4}[a-zа-яії]?)?$")
_NUMBER_MARKERS = {"nr", "nr.", "no", "no.", "№", "буд.", "буд", "д.", "house"}
# A flat's parts after the house number: the word, then a short value ("bl. A2", "ap. 12", "m. 3", "кв. 4").
_FLAT_MARKERS = {"bl.", "bloc", "sc.", "scara", "et.", "etaj", "ap.", "apt.", "apartament", "m.", "lok.", "lokal",
                 "кв.", "квартира", "корп.", "flat", "apt"}
_FLAT_VALUE = re.compile(r"^[0-9a-zа-яії]{1,4}$")
_PUNCTUATION = ".,;:()"
# A suffix word shorter than this must be a word of its own ("u.", "út"); a longer one may end a word, as German
# streets are written ("Hauptstraße", "Bahnhofstr.").
MIN_GLUED_SUFFIX = 4


@dataclass(frozen=True)
class AddressFinding:
    keyword: str
    words: tuple[Word, ...]


def addresses(words: list[Word], prefixes: list[str], suffixes: list[str]) -> Iterator[AddressFinding]:
    """Street addresses in a page's words, read as one stream (an address may run over a line break)."""
    tokens = [fold(w.text).rstrip(",;:") for w in words]
    prefix_phrases = sorted(((k, fold(k).split()) for k in prefixes), key=lambda kp: len(kp[1]), reverse=True)
    suffix_words = {fold(k): k for k in suffixes}
    start = 0
    while start < len(words):
        found = _after_prefix(words, tokens, start, prefix_phrases) or _around_suffix(words, tokens, start,
                                                                                        suffix_words)
        if found is None:
            start += 1
            continue
        keyword, first, end = found
        end = _with_flat(tokens, end)
        yield AddressFinding(keyword, tuple(words[first:end]))
        start = end


def _after_prefix(words, tokens, start, phrases) -> tuple[str, int, int] | None:
    """(keyword, first word, end) of "str. Avram Iancu nr. 12": the street's word, 1-4 words of its name, each
    capitalised or a number ("ul. 3 Maja 12"), then its house number."""
    keyword, phrase = next(((k, p) for k, p in phrases if tokens[start:start + len(p)] == p), (None, []))
    if keyword is None:
        return None
    name_start = start + len(phrase)
    for k in range(name_start, min(name_start + MAX_STREET_WORDS + 1, len(words))):
        if k > name_start:  # the name has a word
            if _marked_number(tokens, k):
                return keyword, start, k + 2
            if _is_house_number(tokens[k]):
                return keyword, start, k + 1
        if not words[k].text[:1].isupper() and not words[k].text[:1].isdigit():
            return None  # a word in lower case: the sentence goes on ("calea ferată"), no street was named
    return None


def _around_suffix(words, tokens, start, suffix_words) -> tuple[str, int, int] | None:
    """(keyword, first word, end) of "Kossuth Lajos utca 12", "Hauptstraße 5" or "12 Main Street": the name's
    capitalised words, the street's word, the house number after it (or, in English, before the name)."""
    token = tokens[start]
    keyword = suffix_words.get(token) or next(
        (k for s, k in suffix_words.items() if len(s) >= MIN_GLUED_SUFFIX and token.endswith(s)), None)
    if keyword is None:
        return None
    first = start
    while first > 0 and start - first < MAX_STREET_WORDS - 1 and words[first - 1].text[:1].isupper() \
            and not words[first - 1].text.rstrip().endswith((",", ";", ":")):
        first -= 1
    if first == start and token in suffix_words:
        return None  # "utca" with no name before it
    if _marked_number(tokens, start + 1):
        return keyword, first, start + 3
    if start + 1 < len(tokens) and _is_house_number(tokens[start + 1]):
        return keyword, first, start + 2
    if first > 0 and _is_house_number(tokens[first - 1]):
        return keyword, first - 1, start + 1  # "12 Main Street"
    return None


def _is_house_number(token: str) -> bool:
    return bool(_HOUSE_NUMBER.match(token.rstrip(".")))


def _marked_number(tokens: list[str], k: int) -> bool:
    """Whether tokens[k] is a number's word and a house number follows it ("nr. 12", "буд. 5")."""
    return k + 1 < len(tokens) and tokens[k] in _NUMBER_MARKERS and _is_house_number(tokens[k + 1])


def _with_flat(tokens: list[str], end: int) -> int:
    """`end` moved past what follows a house number: the flat's parts ("bl. A2, sc. 1, et. 3, ap. 12", "m. 3",
    "кв. 4") and the number itself where a number in the street's name came first ("1 Decembrie 1918 nr. 5")."""
    while end + 1 < len(tokens) and (tokens[end] in _FLAT_MARKERS and _FLAT_VALUE.match(tokens[end + 1].strip(
            _PUNCTUATION)) or _marked_number(tokens, end)):
        end += 2
    return end
