"""Fold text the way people type it when searching: no diacritics, no case.

The same fold is applied to the indexed text and to the query, so `primaria` finds
`Primăria` and `lodz` finds `Łódź`, whichever spelling the scan or the user used.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator

# Letters that look like "base letter + mark" but that Unicode keeps as letters of their
# own: NFKD leaves them unchanged, so stripping combining marks alone would miss them.
# Keys are lower case because `fold` casefolds first.
_UNDECOMPOSABLE = str.maketrans({
    "ł": "l",  # Polish: stroke is part of the letter, no decomposition
    "đ": "d",  # Croatian/Vietnamese d with stroke
    "ø": "o",  # Danish/Norwegian o with stroke
    "ß": "ss",  # casefold already does this; kept so the table states every intent
    "æ": "ae",  # ligature treated as a letter, no compatibility decomposition
    "œ": "oe",  # same as æ
    "ı": "i",  # dotless i (Turkish) has no decomposition
    "ħ": "h",  # Maltese h with stroke
    "ґ": "г",  # Ukrainian ghe with upturn: a distinct letter, often typed as г
})
# ї→і, й→и, ё→е, ş/ș→s, ţ/ț→t, ă/â/î→a/a/i all decompose under NFKD, so need no entry.

# Combining-mark blocks that occur in Latin and Cyrillic text (Cyrillic stress marks have
# no precomposed form), so a decomposed word stays one word.
_MARKS = "\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
# The apostrophes people and OCR write: ASCII, the right single quote, the modifier letter (Unicode counts it as a
# letter: the official Ukrainian one), the left single quote, and look-alikes typed for it: the backtick (the
# Ukrainian apostrophe's key on an English layout), the acute accent and the prime.
APOSTROPHES = "'\u2019\u02bc\u2018`\u00b4\u2032"
CYRILLIC = "\u0400-\u052f"
# Between two Cyrillic letters an apostrophe is part of the word: Ukrainian and Belarusian write it inside words
# (сім'я, об'єкт, п'ять), and it changes with the hand or the keyboard, or is left out (обєкт). Cut there, сім'я
# was the two words сім and я, and its inflected сім'ї found neither.
_CYRILLIC_APOSTROPHE = rf"(?<=[{CYRILLIC}])[{APOSTROPHES}](?=[{CYRILLIC}])"
# A word: a letter or digit, then letters, digits, marks or (see above) an apostrophe. Elsewhere apostrophes,
# hyphens and underscores split words (the language keys use '_' inside a key: ron_primar); so does the
# modifier-letter apostrophe, as the others do.
_LETTER = r"[^\W_\u02bc]"
_WORD = re.compile(rf"{_LETTER}(?:{_LETTER}|[{_MARKS}]|{_CYRILLIC_APOSTROPHE})*")
_APOSTROPHE_IN_WORD = re.compile(_CYRILLIC_APOSTROPHE)


def fold(text: str) -> str:
    if text.isascii():  # most words of Latin-script pages: nothing to decompose or map
        return text.lower()
    # An apostrophe inside a Cyrillic word goes: сім'я, сім’я, сімʼя and сімя are one word to search.
    decomposed = unicodedata.normalize("NFKD", _APOSTROPHE_IN_WORD.sub("", text).casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Casefold again: compatibility decompositions can yield capitals (Ⅻ → XII).
    return bare.translate(_UNDECOMPOSABLE).casefold()


@functools.lru_cache(maxsize=500_000)
def fold_word(word: str) -> str:
    """`fold` of one word, remembered: a page's words repeat, and a collection's vocabulary is small."""
    return fold(word)


def words(text: str) -> list[str]:
    """The words of `text`, casefolded but with their diacritics (fold them to compare)."""
    return [match.group().casefold() for match in _WORD.finditer(text)]


_SPLIT = re.compile(rf"({_WORD.pattern})")


def split_words(text: str) -> list[str]:
    """`text` cut into [between, word, between, word, ..., between]: words at the odd places, nothing lost."""
    return _SPLIT.split(text)


# A word broken at the end of a line: letters, a hyphen (-, soft, Unicode, ¬, Fraktur's ⸗), the line break, and
# the rest of the word (`continues` says whether it is one). A blank line may stand between: Tesseract ends a block
# there when the next line is indented or set apart (construc-, a blank line, ție: it was never joined).
LINE_BREAK = re.compile(r"[-\u00ad\u2010\u2011\u00ac\u2e17][ \t]*\n(?:[ \t]*\n)?[ \t]*")  # between the halves
_BROKEN = re.compile(rf"({_WORD.pattern}){LINE_BREAK.pattern}({_WORD.pattern})")


def joined_words(text: str) -> list[str]:
    """Words broken over two lines, joined again (constru-/cție: construcție), as they are printed otherwise.
    Typewritten and printed pages break long words at line ends, and OCR keeps the break: the printed halves
    match no search for the word."""
    return [first + rest for first, rest in _BROKEN.findall(text) if continues(first, rest)]


def rejoined(text: str) -> str:
    """`text` with each word broken over two lines joined again (Felea-/cului: Feleacului), for the phrases and
    beginnings that run over the break ("Dealul Feleacului", Feleac*); "" when no word is broken (most pages:
    nothing more to index)."""
    joins = 0

    def join(match: re.Match[str]) -> str:
        nonlocal joins
        first, rest = match.group(1), match.group(2)
        if not continues(first, rest):
            return match.group(0)
        joins += 1
        return first + rest

    text = _BROKEN.sub(join, text)
    return text if joins else ""


def continues(first: str, rest: str) -> bool:
    """Whether `rest`, after `first`, a hyphen and a line break, is the rest of one word: it begins in small
    letters, or both are in capitals (a heading: CONSTRUC-/ȚIE). A capital after small letters starts a new word
    or a compound's second name (Cluj-/Napoca)."""
    return rest[:1].islower() or (first.isupper() and rest.isupper())


def word_matches(text: str) -> Iterator[re.Match[str]]:
    """The words of `text` with their positions, unchanged (for highlighting the original)."""
    return _WORD.finditer(text)
