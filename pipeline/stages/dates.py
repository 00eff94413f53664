"""Dates in a document's OCR text.

Regexes find candidate substrings (numeric, Roman-numeral months, month names). A numeric or Roman one is a date
when the calendar has it; dateparser reads those with a month's name in the document's languages (each text once),
and its result is checked against the digits it came from. Addresses (str. 1 Decembrie 1918) are no dates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from ..language_codes import TWO_LETTER_CODES
from ..model import FoundDate, PageText

if TYPE_CHECKING:
    from dateparser.date import DateDataParser


def find_dates(pages: Sequence[PageText], languages: Sequence[str]) -> tuple[FoundDate, ...]:
    """The document's distinct dates in reading order (each at its first occurrence); `languages` are Tesseract
    codes."""
    date_languages = _dateparser_languages(languages)
    return _unique_dates(date for page in pages for date in _find_dates(page, date_languages))


_DATEPARSER_SETTINGS = {
    "PARSERS": ["absolute-time"],  # no relative dates ("12 ani" = 12 years ago) and no timestamps
    "REQUIRE_PARTS": ["month", "year"],
    "DATE_ORDER": "DMY",  # 04.05.1975 is 4 May in every language these archives are written in
    "PREFER_DAY_OF_MONTH": "first",
}


def _dateparser_languages(languages: Sequence[str]) -> tuple[str, ...]:
    codes = [part.split("_")[0] for lang in languages for part in lang.split("+")]
    mapped = dict.fromkeys(TWO_LETTER_CODES[c] for c in codes if c in TWO_LETTER_CODES)  # dateparser's codes
    # Numeric dates need no language; English keeps the parser usable when none is known.
    return tuple(mapped) or ("en",)


@lru_cache(maxsize=32)
def _date_parser(languages: tuple[str, ...]) -> DateDataParser:
    """One parser per language set and process: building it and its first use load dateparser's data."""
    from dateparser.date import DateDataParser  # imported on first use: a rerun with nothing to do skips it

    return DateDataParser(languages=list(languages), settings=_DATEPARSER_SETTINGS, try_previous_locales=False)


_ROMAN_MONTHS = ("XII", "XI", "X", "IX", "VIII", "VII", "VI", "V", "IV", "III", "II", "I")  # longest first
_ROMAN_VALUES = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10,
                 "XI": 11, "XII": 12}
# Ukrainian and Russian OCR often reads Roman I and X as the Cyrillic look-alikes І and Х.
_CYRILLIC_ROMAN = str.maketrans({"І": "I", "Х": "X"})
_ROMAN = "(?P<roman>" + "|".join(r.replace("I", "[IІ]").replace("X", "[XХ]") for r in _ROMAN_MONTHS) + ")"

_YEAR = r"(?P<year>1[7-9]\d\d|20\d\d|2100)"
_DAY = r"(?P<day>0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?P<month>0?[1-9]|1[0-2])"
_WORD = r"\b(?P<word>[^\W\d_]{3,}\.?)"  # a month name or abbreviation; dateparser decides whether it is one
_SEP = r"(?P<sep>[./-])"
# Not part of a longer number: rules out 0264.12.04.1975, 1.250.1975,00 and the like.
# Nor glued to a letter: OCR's l2.04.1975 (for 12) is no 2 April.
_START = r"(?<![\w.,/-])"
_END = r"(?![\d]|[.,/-]\d)"

# In priority order: where two candidates overlap, the earlier pattern's date wins.
_DATE_PATTERNS = tuple(re.compile(p) for p in (
    _START + _DAY + _SEP + r"\s?" + _MONTH + r"(?P=sep)\s?" + _YEAR + _END,  # 12.04.1975, 12/04/1975
    r"(?<=\d/)" + _DAY + r"(?P<sep>\.)" + _MONTH + r"\." + _YEAR + _END,  # a registration: Nr. 1234/12.04.1975
    _START + _YEAR + _SEP + r"\s?" + _MONTH + r"(?P=sep)\s?" + _DAY + r"\.?" + _END,  # 1975-04-12, 1975. 04. 12.
    _START + _DAY + r"\.?\s*[.\s/-]\s*" + _ROMAN + r"\s*[.\s/-]\s*" + _YEAR + _END,  # 12.IV.1975, 12 IV 1975
    _START + _YEAR + r"\.?\s*[.\s/-]\s*" + _ROMAN + r"\s*[.\s/-]\s*" + _DAY + r"\.?" + _END,  # 1975. IV. 12.
    _START + _DAY + r"\.?\s+" + _WORD + r",?\s+" + _YEAR + _END,  # 12 aprilie 1975, 12. April 1975
    _WORD + r"\s+" + _DAY + r"\.?,?\s+" + _YEAR + _END,  # April 12, 1975, április 12, 1975
    _START + _YEAR + r"\.?\s+" + _WORD + r"\s+" + _DAY + r"\.?" + _END,  # 1975. április 12.
    _WORD + r"\s+" + _YEAR + _END,  # martie 1975
))


# An address is no date: str. 1 Decembrie 1918, ul. 1 Maja 1975, Bd. 23 August, вул. 1 Травня (the day, if the
# date is only a month's name and a year).
_STREET_BEFORE = re.compile(r"(?i)(?<!\w)(?:str|strada|bd|bdul|bulevardul|calea|aleea|piața|ul|ulica|al|aleja|pl|"
                            r"plac|вул|вулиця|ул|улица|пр|просп|пл|площа|площадь)\.?\s*(?:\d{1,2}\.?\s+)?$")


def _find_dates(page: PageText, languages: tuple[str, ...]) -> list[FoundDate]:
    """Dates on one page in reading order."""
    taken = bytearray(len(page.text))  # 1 where an earlier pattern's date lies: a pass over each candidate only
    found: list[tuple[int, FoundDate]] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(page.text):
            start, end = match.span()
            if any(taken[start:end]) or _STREET_BEFORE.search(page.text, max(0, start - 16), start):
                continue
            iso = _read_candidate(match, languages)
            if iso:
                taken[start:end] = b"\x01" * (end - start)
                text = " ".join(match.group(0).split())
                found.append((match.start(), FoundDate(iso=iso, year=int(iso[:4]), text=text, page=page.number)))
    return [date for _, date in sorted(found, key=lambda item: item[0])]


def _read_candidate(match: re.Match, languages: tuple[str, ...]) -> str:
    """ISO date of a candidate, or "" when it is no date (31.02), or dateparser's reading of its month's name does
    not agree with the candidate's digits."""
    groups = match.groupdict()
    if groups.get("month") or groups.get("roman"):  # all digits, or a Roman month: nothing for dateparser to read
        month = int(groups["month"]) if groups.get("month") else \
            _ROMAN_VALUES[groups["roman"].translate(_CYRILLIC_ROMAN)]
        try:
            return datetime(int(groups["year"]), month, int(groups["day"])).strftime("%Y-%m-%d")
        except ValueError:
            return ""
    date, period = _parsed(match.group(0), languages)
    if date is None or date.year != int(groups["year"]):
        return ""
    has_day = groups.get("day") is not None
    # dateparser quietly swaps day and month, or takes a non-month word's neighbour as the month.
    if has_day and (period != "day" or date.day != int(groups["day"])):
        return ""
    if not has_day and period != "month":
        return ""
    return date.strftime("%Y-%m-%d" if has_day else "%Y-%m")


@lru_cache(maxsize=100_000)
def _parsed(text: str, languages: tuple[str, ...]) -> tuple[datetime | None, str]:
    """dateparser's reading of a candidate (date, period), once per text: a register repeats its dates, and each
    reading costs about a millisecond (10,000 dates on a page took 10 s)."""
    data = _date_parser(languages).get_date_data(text)
    return data.date_obj, data.period


def _unique_dates(dates) -> tuple[FoundDate, ...]:
    """First occurrence of each distinct date, in reading order."""
    seen: dict[str, FoundDate] = {}
    for date in dates:
        seen.setdefault(date.iso, date)
    return tuple(seen.values())
