"""Dates in a document's OCR text.

Regexes find candidate substrings (numeric, Roman-numeral months, month names). A numeric or Roman one is a date
when the calendar has it; dateparser reads those with a month's name in the document's languages (each text once),
and its result is checked against the digits it came from. Addresses (str. 1 Decembrie 1918) are no dates. A
year written in two digits takes its century from the document's other dates (`find_dates`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from ..language_codes import TWO_LETTER_CODES
from ..model import FoundDate, PageText

if TYPE_CHECKING:
    from dateparser.date import DateDataParser


def find_dates(pages: Sequence[PageText], languages: Sequence[str],
               this_year: int | None = None) -> tuple[FoundDate, ...]:
    """The document's distinct dates in reading order (each at its first occurrence); `languages` are Tesseract
    codes. A year written in two digits (12.03.75) is given the century that puts it nearest the document's dates
    written in full (their median); in a document without any, the last hundred years up to `this_year` (today's
    by default): 25 is 2025 in 2026, 75 is 1975. A date in a year after `this_year` is no record's date (an OCR
    misreading, 2075 for 1975, or a term still to run): it is not found, so it neither dates the record in the
    search's years nor holds it back under an embargo rule (the record's latest year counts there)."""
    this_year = this_year or datetime.now().year
    date_languages = _dateparser_languages(languages)
    found = [date for page in pages for date in _find_dates(page, date_languages)
             if not isinstance(date, FoundDate) or date.year <= this_year]
    full_years = sorted(date.year for date in found if isinstance(date, FoundDate))
    near = full_years[len(full_years) // 2] if full_years else None
    dated = (date if isinstance(date, FoundDate) else date.dated(near, this_year) for date in found)
    return _unique_dates(date for date in dated if date is not None and date.year <= this_year)


@dataclass(frozen=True)
class _ShortYearDate:
    """A date whose year is written in two digits: its century is the document's to decide (find_dates)."""

    day: int
    month: int
    short_year: int
    text: str
    page: int

    def dated(self, near: int | None, this_year: int) -> FoundDate | None:
        if near is None:
            year = this_year - (this_year - self.short_year) % 100
        else:
            year = min((century + self.short_year for century in range(near // 100 * 100 - 100, near + 101, 100)),
                       key=lambda candidate: abs(candidate - near))
        try:
            iso = datetime(year, self.month, self.day).strftime("%Y-%m-%d")
        except ValueError:
            return None  # 29.02.75 is no date in 1975
        return FoundDate(iso=iso, year=year, text=self.text, page=self.page)


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
_SHORT_YEAR = r"(?P<short_year>\d\d)"
_DAY = r"(?P<day>0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?P<month>0?[1-9]|1[0-2])"
_TWO_DIGIT_MONTH = r"(?P<month>0[1-9]|1[0-2])"
# A day written as an ordinal: 12-го, 12-е (Ukrainian, Russian), 12-go (Polish), 12th, 12-én, 12-i (Hungarian).
_ORDINAL = r"(?:-?(?:го|ого|е|я|go|st|nd|rd|th)|-j?[ée]n|-j?án|-i)?"
_WORD = r"\b(?P<word>[^\W\d_]{3,}\.?)"  # a month name or abbreviation; dateparser decides whether it is one
# Before a year: a space, a comma as OCR spaces it (martie,1975; May 12 , 1942), or nothing after an abbreviation's
# dot (12.Nov.1939).
_COMMA = r"(?:\s*,\s*|\s+|(?<=\.))"
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
    # 12 aprilie 1975, 12-го березня 1975, and the day in quotes as Ukrainian and Russian forms print it («12»)
    # A day's dot may touch the month, as typed and as OCR reads it: 12.November 1939, 1.grudnia 2010.
    _START + r"[«„\"]?" + _DAY + r"[»”\"]?" + _ORDINAL + r"(?:\.\s*|\s+)" + _WORD + _COMMA + _YEAR + _END,
    _WORD + r"\s+" + _DAY + _ORDINAL + r"\.?" + _COMMA + _YEAR + _END,  # April 12, 1975, March 12th, 1975
    # 1975. április 12., and the formal 1975. évi április hó 12. napján
    _START + _YEAR + r"\.?\s+(?:évi\s+)?" + _WORD + r"\s+(?:hó\s+)?" + _DAY + _ORDINAL + r"\.?" + _END,
    _WORD + _COMMA + _YEAR + _END,  # martie 1975, May, 1942
    _START + _ROMAN + r"\s*[./-]\s*" + _YEAR + _END,  # XII.1975, IV/1975
    # Two digits for the year, the month written in two digits or in Roman: 12.03.75, 5/03/75, 12.III.75
    _START + _DAY + r"(?P<sep>[./])" + _TWO_DIGIT_MONTH + r"(?P=sep)" + _SHORT_YEAR + _END,
    _START + _DAY + r"\.?\s*[.\s/-]\s*" + _ROMAN + r"\s*[.\s/-]\s*" + _SHORT_YEAR + _END,
))


# An address is no date: str. 1 Decembrie 1918, ul. 1 Maja 1975, Bd. 23 August, вул. 1 Травня (the day, if the
# date is only a month's name and a year); the street words also as OCR reads them without their diacritics
# (Piata), and in the cases a sentence puts them in (przy ulicy 3 Maja, na placu, на вулиці 8 Березня).
_STREET_BEFORE = re.compile(
    r"(?i)(?<!\w)(?:str|strada|străzii|bd|bdul|b-dul|bulevardul|calea|aleea|piața|piaţa|piata|șos|şos|sos|"
    r"șoseaua|şoseaua|soseaua|ul|ulica|ulicy|ulicę|ulice|ulicą|al|aleja|alei|aleję|aleją|pl|plac|placu|placem|"
    r"вул|вулиця|вулиці|вулицю|вулицею|ул|улица|улицы|улице|улицу|пр|просп|проспект|проспекту|проспекті|"
    r"проспекта|проспекте|пл|площа|площі|площу|площадь|площади)\.?\s*(?:\d{1,2}\.?\s+)?$")


def _find_dates(page: PageText, languages: tuple[str, ...]) -> list[FoundDate | _ShortYearDate]:
    """Dates on one page in reading order."""
    return [date for _, _, date in _dates_at(page.text, languages, page.number)]


def days_written_out(text: str, languages: Sequence[str]) -> list[tuple[int, int, str]]:
    """(start, end, ISO day) of each date in `text` whose month is written as a word or in Roman numerals, with
    its day and its year in full: 7 aprilie 1983, 7-го квітня 1983, April 7, 1983, 7.IV.1983. The search finds
    them by a date typed in figures (backends.search.day_keys); `languages` are Tesseract codes."""
    return [(start, end, date.iso) for start, end, date in _dates_at(text, _dateparser_languages(languages))
            if isinstance(date, FoundDate) and len(date.iso) == 10
            and any(character.isalpha() for character in text[start:end])]


def _dates_at(text: str, languages: tuple[str, ...],
              page: int = 1) -> list[tuple[int, int, FoundDate | _ShortYearDate]]:
    """(start, end, date) of each date in `text`, in reading order; `languages` are dateparser's codes."""
    taken = bytearray(len(text))  # 1 where an earlier pattern's date lies: a pass over each candidate only
    found: list[tuple[int, int, FoundDate | _ShortYearDate]] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(taken[start:end]) or _STREET_BEFORE.search(text, max(0, start - 16), start):
                continue
            written = " ".join(match.group(0).split())
            if match.groupdict().get("short_year"):
                date = _ShortYearDate(int(match["day"]), _month_of(match), int(match["short_year"]), written, page)
            else:
                iso = _read_candidate(match, languages)
                date = FoundDate(iso=iso, year=int(iso[:4]), text=written, page=page) if iso else None
            if date is not None:
                taken[start:end] = b"\x01" * (end - start)
                found.append((start, end, date))
    return sorted(found, key=lambda item: item[0])


def _month_of(match: re.Match) -> int:
    """The month of a candidate with its month in digits or in Roman."""
    groups = match.groupdict()
    return int(groups["month"]) if groups.get("month") else _ROMAN_VALUES[groups["roman"].translate(_CYRILLIC_ROMAN)]


def _read_candidate(match: re.Match, languages: tuple[str, ...]) -> str:
    """ISO date of a candidate, or "" when it is no date (31.02), or dateparser's reading of its month's name does
    not agree with the candidate's digits."""
    groups = match.groupdict()
    if groups.get("month") or groups.get("roman"):  # all digits, or a Roman month: nothing for dateparser to read
        if not groups.get("day"):
            return f"{int(groups['year']):04d}-{_month_of(match):02d}"  # XII.1975
        try:
            return datetime(int(groups["year"]), _month_of(match), int(groups["day"])).strftime("%Y-%m-%d")
        except ValueError:
            return ""
    has_day = groups.get("day") is not None
    # dateparser is shown the day, the month's word and the year alone, in that order: it reads them so in every
    # language here, and the words around them (ordinals' endings, Hungarian évi and hó) are no concern of its.
    date, period = _parsed(" ".join(part for part in (groups.get("day"), groups["word"], groups["year"]) if part),
                           languages)
    if date is None or date.year != int(groups["year"]):
        return ""
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
    """First occurrence of each distinct date, in reading order (None: no date)."""
    seen: dict[str, FoundDate] = {}
    for date in dates:
        if date is not None:
            seen.setdefault(date.iso, date)
    return tuple(seen.values())
