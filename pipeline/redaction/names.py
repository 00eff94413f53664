"""Names written after civil-status keywords ("născută Maria Popescu", "syn Jana", "народився Іван Петренко").

The keywords are per language in configs/redaction.yaml; the 1-3 capitalised words after one are taken as a
name. A name may continue on the next line, so the page's words are read as one stream.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from ..model import Word

MAX_NAME_WORDS = 3
_PUNCTUATION = ".,;:!?()[]\"'„”“«»"


@dataclass(frozen=True)
class NameFinding:
    keyword: str
    words: tuple[Word, ...]


def fold(text: str) -> str:
    """Lower case without diacritics, both Romanian cedilla and comma letters alike (ş/ș)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ł", "l")


def _token(word: Word) -> str:
    return fold(word.text.strip(_PUNCTUATION))


def names_after_keywords(words: list[Word], keywords: list[str]) -> Iterator[NameFinding]:
    # A keyword's words as the page's are compared: without their punctuation (Polish "ur." never matched).
    phrases = sorted(((k, [fold(part.strip(_PUNCTUATION)) for part in k.split()]) for k in keywords),
                     key=lambda kp: len(kp[1]), reverse=True)
    tokens = [_token(w) for w in words]
    for start in range(len(words)):
        keyword, phrase = next(((k, p) for k, p in phrases if tokens[start:start + len(p)] == p), (None, []))
        if keyword is None:
            continue
        name = _capitalised_run(words[start + len(phrase):])
        if name:
            yield NameFinding(keyword, name)


def _capitalised_run(words: list[Word]) -> tuple[Word, ...]:
    taken: list[Word] = []
    window = words[:MAX_NAME_WORDS]
    for k, word in enumerate(window):
        core = word.text.strip(_PUNCTUATION)
        if not _looks_like_name(core) and not (k + 1 < len(window) and _capital_i_misread(core)
                                               and _looks_like_name(window[k + 1].text.strip(_PUNCTUATION))):
            break
        taken.append(word)
        if word.text.rstrip()[-1:] in ",;:).":  # "născută Maria Popescu, fiica lui ..."
            break
    return tuple(taken)


# Words in small letters that begin with l and may follow a keyword or a first name: not names misread.
_NOT_NAMES = {"la", "lui", "lor", "langa", "lînga", "luna", "lunii", "lub", "lipca", "listopada", "lutego", "lat"}


def _capital_i_misread(core: str) -> bool:
    """Whether `core` may be a name whose capital I OCR read as a small l (loana, lon, lulia for Ioana, Ion,
    Iulia): the name's first word was passed over, or the run ended before the surname ("Maria loana Popescu"
    proposed Maria alone, the surname left showing). Taken only before a capitalised word."""
    return len(core) >= 3 and core[0] == "l" and core.isalpha() and core.islower() and fold(core) not in _NOT_NAMES


def _looks_like_name(core: str) -> bool:
    letters = core.replace("-", "").replace("'", "").replace("’", "")
    return len(letters) >= 2 and letters.isalpha() and core[0].isupper()
