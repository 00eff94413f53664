"""The portal's languages: gettext catalogs (portal/locales/<lang>/LC_MESSAGES/messages.po) and dates and
numbers written the way each locale writes them (Babel).

The .po files are compiled in memory when the portal starts (Babel's own compiler): a fresh clone, an
installed wheel and an edited translation all work without a separate build step, and no binary .mo file
can go stale beside its source.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timezone
from io import BytesIO
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.dates import format_date, format_datetime, format_skeleton, get_timezone
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = ("en", "ro", "pl", "uk")  # English is the source language of the catalogs
DEFAULT_LANGUAGE = "en"
COOKIE = "retrodig_lang"


@functools.cache
def translations(language: str) -> NullTranslations:
    po = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not po.is_file():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled)


def choose_language(cookie: str | None, accept_language: str | None) -> str:
    """The language the person picked (cookie), else the browser's preference, else English."""
    if cookie in LANGUAGES:
        return cookie
    wanted = [part.split(";")[0].strip().replace("-", "_") for part in (accept_language or "").split(",")]
    chosen = negotiate_locale([w for w in wanted if w], LANGUAGES, sep="_")
    # Babel gives back the preference as it was spelt ("UK" for uk): the language as the portal names it.
    return next((language for language in LANGUAGES if chosen and language == chosen.lower()), DEFAULT_LANGUAGE)


class Formats:
    """Dates and numbers in one locale, for templates."""

    def __init__(self, language: str):
        self.locale = Locale.parse(language)
        self.timezone = get_timezone()  # the server's: the town hall's clock

    def datetime(self, value: str | datetime | None, zone: bool = False) -> str:
        """A moment in the town hall's time zone; with `zone`, followed by the zone's name (for citizens abroad,
        whose own clocks show other hours: a download link's end, a request's times)."""
        if not value:
            return ""
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return value
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        shown = format_datetime(value, "medium", tzinfo=self.timezone, locale=self.locale)
        return f"{shown} {format_datetime(value, 'ZZZZ', tzinfo=self.timezone, locale=self.locale)}" if zone else shown

    def date(self, value: datetime | date | str | None) -> str:
        """The day of a moment, in the town hall's time zone; a day (a date, or one written YYYY-MM-DD) as it is."""
        if not value:
            return ""
        if isinstance(value, str):
            value = date.fromisoformat(value)
        if not isinstance(value, datetime):
            return format_date(value, "long", locale=self.locale)
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return format_date(value.astimezone(self.timezone), "long", locale=self.locale)

    def run_started(self, run_id: str) -> str:
        """An ingest run's id (the UTC time it started, 20260102T030405000000Z) as a moment the reader reads."""
        try:
            started = datetime.strptime(run_id, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=timezone.utc)
        except ValueError:
            return run_id
        return self.datetime(started)

    def found_date(self, iso: str) -> str:
        """A date found in a record (YYYY-MM-DD, or YYYY-MM or YYYY when partial) as the reader writes dates (the
        page showed 1954-03-12 to every reader)."""
        parts = iso.split("-")
        if len(parts) == 3:
            return self.date(iso)
        if len(parts) == 2:
            return format_skeleton("yMMMM", date(int(parts[0]), int(parts[1]), 1), locale=self.locale)
        return iso

    def money(self, amount: float, currency: str) -> str:
        return format_currency(amount, currency, locale=self.locale)

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if not isinstance(value, (int, float)):  # a field a report from an older retrodig lacks
            return ""
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def language_name(self, code: str) -> str:
        return Locale.parse(code).get_display_name(code).capitalize()
