"""Personal numbers, bank accounts, e-mail addresses and phone numbers in a line of OCR words.

The checksums are python-stdnum's (CNP, PESEL, RNOKPP and IBAN are all maintained there, with their date and
country rules too), the phone numbers are libphonenumber's rules (phonenumberslite): neither is written here.
A number that fails its check is not proposed as that kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import phonenumbers
from stdnum import iban
from stdnum.pl import pesel
from stdnum.ro import cnp
from stdnum.ua import rntrc

from ..model import Word
from .lines import LineText


@dataclass(frozen=True)
class Finding:
    kind: str
    words: tuple[Word, ...]
    reason: str


# Digit runs of a personal number's length, not part of a longer number (an IBAN, an account, a phone).
_NATIONAL_NUMBERS: dict[int, tuple[str, Callable[[str], bool], str]] = {
    13: ("cnp", cnp.is_valid, "Romanian personal numeric code (CNP) with a valid checksum"),
    11: ("pesel", pesel.is_valid, "Polish PESEL number with a valid checksum"),
    10: ("rnokpp", rntrc.is_valid, "Ukrainian taxpayer number (RNOKPP) with a valid checksum"),
}
# A letter may come right before: the label glued on by the typist or by OCR ("PESEL85010112345"); the checksum
# keeps other codes out.
_DIGIT_RUN = re.compile(r"(?<!\d)\d{10,13}(?!\d)")
# Country code, check digits, then 11-30 letters or digits, grouped by spaces or not: trimmed until valid.
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")
_MIN_IBAN = 15  # Norway's, the shortest
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")


# A personal number printed one digit to a box (forms): digits apart, as OCR reads the boxes' walls or none.
_BOXED_DIGITS = re.compile(r"(?<![\d\w])\d(?:[ |\[\]]{1,3}\d){9,12}(?![\d\w])")


def national_numbers(line: LineText) -> Iterator[Finding]:
    for match in (*_DIGIT_RUN.finditer(line.text), *_BOXED_DIGITS.finditer(line.text)):
        digits = "".join(c for c in match.group() if c.isdigit())
        kind, is_valid, reason = _NATIONAL_NUMBERS.get(len(digits), (None, None, None))
        if kind and is_valid(digits):
            yield Finding(kind, line.words_in(*match.span()), reason)


def ibans(line: LineText) -> Iterator[Finding]:
    for match in _IBAN.finditer(line.text):
        candidate = match.group()
        # The pattern also swallows capitalised words after the account ("... 0000 BANCA"): drop characters
        # from the end until the mod-97 check passes, or the candidate is too short to be an IBAN.
        while len(candidate.replace(" ", "")) >= _MIN_IBAN:
            if iban.is_valid(candidate):
                start = match.start()
                yield Finding("iban", line.words_in(start, start + len(candidate)),
                              "IBAN with a valid mod-97 check")
                break
            candidate = candidate[:-1].rstrip()


# A Polish account number as Poles write it, without its country code (NRB: 26 digits, 2 + 6 groups of 4): it is
# the PL IBAN's digits, checked as one.
_NRB = re.compile(r"(?<![\dA-Za-z])\d{2}(?: ?\d{4}){6}(?!\d)")


def polish_accounts(line: LineText) -> Iterator[Finding]:
    for match in _NRB.finditer(line.text):
        if iban.is_valid("PL" + match.group().replace(" ", "")):
            yield Finding("iban", line.words_in(*match.span()), "Polish account number (NRB) with a valid check")


def emails(line: LineText) -> Iterator[Finding]:
    for match in _EMAIL.finditer(line.text):
        yield Finding("email", line.words_in(*match.span()), "e-mail address")


# Labels of a firm's or an office's registry numbers: a number after one is no phone, even where its digits would
# make one (a Polish REGON has 9 digits, as a Polish mobile number has: "REGON 601234567").
_REGISTRY_LABELS = {"regon", "nip", "krs", "cui", "cif", "edrpou", "єдрпоу", "ipn", "іпн"}
_LABEL_BEFORE = re.compile(r"([^\W\d_]+)[^\w+]*$")


def phones(line: LineText, regions: tuple[str, ...]) -> Iterator[Finding]:
    """Numbers libphonenumber accepts as valid for one of `regions` (national form) or for the country their
    international prefix names; also those printed right after another number (`_phones_in_runs`); not those
    labelled as a registry number (`_REGISTRY_LABELS`)."""
    seen: set[tuple[int, int]] = set()
    found = []
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(line.text, region):
            if (match.start, match.end) in seen or _DATE.search(match.raw_string):
                continue
            seen.add((match.start, match.end))
            found.append((match.start, match.end, match.number, region))
    found += _phones_in_runs(line.text, regions, seen)
    for start, end, number, region in found:
        label = _LABEL_BEFORE.search(line.text[:start])
        if label and label.group(1).casefold() in _REGISTRY_LABELS:
            continue
        country = phonenumbers.region_code_for_number(number) or region
        yield Finding("phone", line.words_in(start, end), f"phone number ({country})")


# Digits with the separators phone numbers are printed with: a run libphonenumber's matcher takes whole.
_NUMBER_RUN = re.compile(r"(?<![\w+])\+?\(?\d[\d ().\-/]*\d")
# A date in figures (12.03.1954, 1.3.1954, 1954-03-12): with the number after it ("12.03.1954 2. Wniosek", a list's
# next item) libphonenumber took it for a phone number, and the copy's dates were proposed for blacking out.
_DATE = re.compile(r"(?<!\d)(?:\d{1,2}[./-]\d{1,2}[./-]\d{4}|\d{4}-\d{1,2}-\d{1,2})(?!\d)")


def _phones_in_runs(text: str, regions: tuple[str, ...], found: set[tuple[int, int]]):
    """(start, end, number, region) of phone numbers inside runs of digit groups that the matcher found none in:
    it takes "1750315120015 0722 555 018" (a table row: a CNP, then the phone) or "3 0722 555 018" (a flat's
    number) as one number, invalid, and proposed no phone at all. Here the run's groups (split at spaces) are
    tried from left to right, the longest valid number from each group first. Written by hand: libphonenumber
    reads a given string, and its matcher finds no number inside a longer one."""
    for run in _NUMBER_RUN.finditer(text):
        if any(start < run.end() and run.start() < end for start, end in found):
            continue
        groups = [(run.start() + m.start(), run.start() + m.end()) for m in re.finditer(r"\S+", run.group())]
        dates = [bool(_DATE.search(text[start:end])) for start, end in groups]
        i = 0
        while i < len(groups):
            last = next((k for k in range(i, len(groups)) if dates[k]), len(groups))  # no number across a date
            hit = next(((groups[i][0], groups[j - 1][1], number, region) for j in range(last, i, -1)
                        for number, region in _valid_numbers(text[groups[i][0]:groups[j - 1][1]], regions)), None)
            if hit is None:
                i += 1
                continue
            yield hit
            i = next((k for k, group in enumerate(groups) if group[0] >= hit[1]), len(groups))


def _valid_numbers(candidate: str, regions: tuple[str, ...]):
    """(number, region) for the first of `regions` in which `candidate` is a valid phone number (none or one)."""
    if not 7 <= sum(c.isdigit() for c in candidate) <= 15:
        return
    for region in regions:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            yield number, region
            return
