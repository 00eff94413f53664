"""Dates written in figures, as one key whatever their form: 12.03.1975, 12.3.1975, 12/03/1975, 12-03-1975 and
1975-03-12 are one day (`date_19750312`). Clerks look records up by a date and type it as they write it, not as
the typist of 1975 did. Day first, as Romanian, Polish, Ukrainian, Hungarian and German write dates; a year of
two figures (12.03.75) stands for more than one century and is left as printed. Kept in the index beside the
language keys (both backends), and looked for by a query typed as a date; written by hand because no library
reads dates out of running text without also guessing at words (dateparser's search is slow and reads "May" or
"Mai" anywhere as a month).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

_EDGE_BEFORE = r"(?<![\d.,/-])"  # not the tail of a longer number (1.250.000, 3/12/1975/7)
_EDGE_AFTER = r"(?![\d]|[.,/-]\d)"
_DAY_FIRST = re.compile(rf"{_EDGE_BEFORE}(\d{{1,2}})([./-])(\d{{1,2}})\2(\d{{4}}){_EDGE_AFTER}")
_ISO = re.compile(rf"{_EDGE_BEFORE}(\d{{4}})-(\d{{1,2}})-(\d{{1,2}}){_EDGE_AFTER}")
FIRST_YEAR, LAST_YEAR = 1000, 2999


def dates_in(text: str) -> Iterator[tuple[re.Match[str], str]]:
    """Each date in figures in `text`, with its key; impossible ones (31.02.1975, 45.13.1990) are none."""
    for match in _DAY_FIRST.finditer(text):
        if key := _key(int(match[4]), int(match[3]), int(match[1])):
            yield match, key
    for match in _ISO.finditer(text):
        if key := _key(int(match[1]), int(match[2]), int(match[3])):
            yield match, key


def date_keys(text: str) -> list[str]:
    return [key for _, key in dates_in(text)]


def date_key(typed: str) -> str:
    """The key of a query term typed as a date (`12.3.1975`, `1975-03-12`, `14.06.1982r` with Polish's "r." of
    "roku"), else ""."""
    found = list(dates_in(typed))
    if len(found) != 1:
        return ""
    match, key = found[0]
    rest = typed[:match.start()] + typed[match.end():]
    return key if not any(character.isdigit() for character in rest) else ""


def _key(year: int, month: int, day: int) -> str:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return ""
    try:
        date(year, month, day)
    except ValueError:
        return ""
    return f"date_{year:04d}{month:02d}{day:02d}"
