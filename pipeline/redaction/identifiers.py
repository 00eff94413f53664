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
_DIGIT_RUN = re.compile(r"(?<![\dA-Za-z])\d{10,13}(?![\d])")
# Country code, check digits, then 11-30 letters or digits, grouped by spaces or not: trimmed until valid.
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")
_MIN_IBAN = 15  # Norway's, the shortest
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")


def national_numbers(line: LineText) -> Iterator[Finding]:
    for match in _DIGIT_RUN.finditer(line.text):
        kind, is_valid, reason = _NATIONAL_NUMBERS.get(len(match.group()), (None, None, None))
        if kind and is_valid(match.group()):
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


def emails(line: LineText) -> Iterator[Finding]:
    for match in _EMAIL.finditer(line.text):
        yield Finding("email", line.words_in(*match.span()), "e-mail address")


def phones(line: LineText, regions: tuple[str, ...]) -> Iterator[Finding]:
    """Numbers libphonenumber accepts as valid for one of `regions` (national form) or for the country their
    international prefix names."""
    seen: set[tuple[int, int]] = set()
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(line.text, region):
            if (match.start, match.end) in seen:
                continue
            seen.add((match.start, match.end))
            country = phonenumbers.region_code_for_number(match.number) or region
            yield Finding("phone", line.words_in(match.start, match.end), f"phone number ({country})")
