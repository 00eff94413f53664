"""A date as one key whatever its form: 12.03.1975, 12.3.1975, 12/03/1975, 12-03-1975, 1975-03-12, 12 martie 1975,
12 marca 1975, 12 березня 1975, 12.III.1975 are one day (`date_19750312`). Clerks look records up by a date and
type it in figures as they write it, not as the typist of 1975 did. Kept in the index beside the language keys
(both backends), and looked for by a query typed as a date in figures.

Dates in figures are read here, by hand: no library reads dates out of running text without also guessing at
words (dateparser's search is slow and reads "May" or "Mai" anywhere as a month). Day first, as Romanian, Polish,
Ukrainian and German write dates, unless the year comes first (1975-03-12, Hungarian's 1975.03.12.); a year of
two figures (12.03.75) stands for more than one century and is left as printed. Dates with the month's name or a Roman month are the metadata stage's
(stages.dates.days_written_out: its patterns, dateparser for the month's name in the page's languages).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from ...stages.dates import days_written_out

_EDGE_BEFORE = r"(?<![\d.,/-])"  # not the tail of a longer number (1.250.000, 3/12/1975/7)
_EDGE_AFTER = r"(?![\d]|[.,/-]\d)"
_DAY, _MONTH, _YEAR = r"(?P<day>\d{1,2})", r"(?P<month>\d{1,2})", r"(?P<year>\d{4})"
_IN_FIGURES = tuple(re.compile(pattern) for pattern in (
    rf"{_EDGE_BEFORE}{_DAY}/{_MONTH}/{_YEAR}{_EDGE_AFTER}",  # 12/03/1975
    # 12.03.1975, 12-03-1975, also after a registration number's slash (nr. 1234/12.03.1975)
    rf"(?<![\d.,-]){_DAY}(?P<separator>[.-]){_MONTH}(?P=separator){_YEAR}{_EDGE_AFTER}",
    rf"{_EDGE_BEFORE}{_YEAR}-{_MONTH}-{_DAY}{_EDGE_AFTER}",  # 1975-03-12
    rf"{_EDGE_BEFORE}{_YEAR}\.\s?{_MONTH}\.\s?{_DAY}\.?{_EDGE_AFTER}",  # Hungarian's 1975.03.12. (1975. 03. 12.)
))
FIRST_YEAR, LAST_YEAR = 1000, 2999


def dates_in(text: str, languages: Iterable[str] = ()) -> list[tuple[int, int, str]]:
    """(start, end, key) of each date in `text`, in order: in figures, and with the month's name in one of
    `languages` (Tesseract codes) or in Roman numerals. Impossible ones (31.02.1975, 45.13.1990) are none."""
    found = _in_figures(text)
    for start, end, iso in days_written_out(text, tuple(languages)):
        if not any(start < other_end and other_start < end for other_start, other_end, _ in found):
            found.append((start, end, _key(*map(int, iso.split("-")))))
    return sorted(found)


def date_keys(text: str, languages: Iterable[str] = ()) -> list[str]:
    return [key for _, _, key in dates_in(text, languages) if key]


def date_key(typed: str) -> str:
    """The key of a query term typed as a date in figures (`12.3.1975`, `1975-03-12`, `14.06.1982r` with Polish's
    "r." of "roku"), else ""."""
    found = _in_figures(typed)
    if len(found) != 1:
        return ""
    start, end, key = found[0]
    rest = typed[:start] + typed[end:]
    return key if not any(character.isdigit() for character in rest) else ""


def _in_figures(text: str) -> list[tuple[int, int, str]]:
    return [(match.start(), match.end(), key) for pattern in _IN_FIGURES for match in pattern.finditer(text)
            if (key := _key(int(match["year"]), int(match["month"]), int(match["day"])))]


def _key(year: int, month: int, day: int) -> str:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return ""
    try:
        date(year, month, day)
    except ValueError:
        return ""
    return f"date_{year:04d}{month:02d}{day:02d}"
