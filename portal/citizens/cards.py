"""Service cards (configs/services/*.yaml): what a citizen may ask for, and the form that asks it.

Every text is given in each portal language; the form's fields are validated here, on the server, whatever
the browser did."""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.config_yaml import load_yaml
from pipeline.errors import UsageError, validation_problems

from ..labels import N_
from ..i18n import DEFAULT_LANGUAGE, LANGUAGES

SERVICES_DIR = "services"
DELIVERIES = ("electronic", "counter")
RELATIONS = ("self", "relative", "representative", "other")  # the applicant to the person in the record
_CARD_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,59}$")
# The local part may hold an apostrophe (o'brien@example.ie: RFC 5322 allows it, and names have it).
_EMAIL = re.compile(r"^[^@\s<>\"\x00-\x1f\x7f]{1,64}@[A-Za-z0-9.-]{1,190}\.(?:[A-Za-z]{2,24}|xn--[A-Za-z0-9-]{1,59})$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{6,25}$")


class Text(BaseModel):
    """One text in every portal language."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    en: str
    ro: str
    pl: str
    uk: str

    def __call__(self, language: str) -> str:
        return getattr(self, language if language in LANGUAGES else DEFAULT_LANGUAGE)


class FieldSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    type: Literal["text", "textarea", "year", "date", "choice"] = "text"
    required: bool = False
    max_length: int = Field(default=200, ge=1, le=5000)
    search: bool = False  # offered to the clerk as search words
    label: Text
    options: dict[str, Text] = {}


class AttachmentSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    required: bool = False
    label: Text


class ServiceCard(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    doc_type: str
    fee: float = Field(default=0, ge=0)
    deadline_days: int | None = Field(default=None, ge=1, le=365)  # else the country's
    delivery: tuple[Literal["electronic", "counter"], ...] = ("electronic",)
    title: Text
    summary: Text
    who: Text
    delivery_text: Text
    fields: tuple[FieldSpec, ...] = ()
    attachments: tuple[AttachmentSpec, ...] = ()

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _CARD_ID.match(value):
            raise ValueError("a card id is 2-60 of a-z, 0-9 and '-'")
        return value

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


@functools.cache
def _load(folder: Path) -> dict[str, ServiceCard]:
    cards = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            card = ServiceCard.model_validate(load_yaml(path.read_text(encoding="utf-8"), str(path)))
        except ValidationError as exc:
            raise UsageError(f"service card {path}: {validation_problems(exc)}") from exc
        except yaml.YAMLError as exc:
            raise UsageError(f"service card {path}: {exc}") from exc
        cards[card.id] = card
    return cards


def load_cards(configs_dir: Path) -> dict[str, ServiceCard]:
    return _load(Path(configs_dir) / SERVICES_DIR)


# --- validating what a citizen typed ---------------------------------------------------------------------

class FormErrors(Exception):
    """Fields that were refused: {field name: a message id (English, translated by the page)}."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))


def clean_fields(card: ServiceCard, values: dict[str, str], errors: dict[str, str]) -> dict[str, str]:
    """The card's fields, stripped and checked; problems go into `errors`."""
    cleaned = {}
    for spec in card.fields:
        value = clean_text(values.get(spec.name, ""), multiline=spec.type == "textarea")
        if not value:
            if spec.required:
                errors[spec.name] = N_("This field is required.")
            continue
        if spec.type in ("year", "date"):
            value = _ascii_digits(value)
        problem = _check(spec, value)
        if problem:
            errors[spec.name] = problem
        else:
            cleaned[spec.name] = value
    return cleaned


FIRST_YEAR = 1500  # no archive's record is older


def _ascii_digits(value: str) -> str:
    """Digits as 0-9: a phone's keyboard may type Arabic-Indic (١٩٣٠) or full-width (１９３０) ones, which were
    kept as typed and matched no year."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in value)


def _check(spec: FieldSpec, value: str) -> str | None:
    if len(value) > spec.max_length:
        return N_("This is too long.")
    if spec.type == "year":
        if not re.fullmatch(r"[0-9]{4}", value) or not FIRST_YEAR <= int(value) <= dt.date.today().year:
            return N_("Give a year such as 1974.")
    elif spec.type == "date":
        # As the form shows it, year-month-day: fromisoformat also took 19740521, 1974-W21-2 and 0001-01-01.
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            return N_("Give a date such as 1974-05-21.")
        try:
            if not FIRST_YEAR <= dt.date.fromisoformat(value).year or dt.date.fromisoformat(value) > dt.date.today():
                return N_("Give a date such as 1974-05-21.")
        except ValueError:
            return N_("Give a date such as 1974-05-21.")
    elif spec.type == "choice" and value not in spec.options:
        return N_("Choose one of the options.")
    return None


def clean_email(value: str) -> str | None:
    """The address as typed, or None when it is none. A domain in other letters (primăria.ro, приклад.укр) is
    checked, and mailed to, in its ASCII form (IDNA): such addresses were refused."""
    value = value.strip()
    sendable = ascii_domain(value)
    return value if sendable and len(sendable) <= 254 and _EMAIL.match(sendable) else None


def ascii_domain(address: str) -> str | None:
    """`address` with its domain in ASCII (IDNA, as mail servers route it); None when the domain has no such form."""
    local, _, domain = address.rpartition("@")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}" if domain else None
    except UnicodeError:
        return None


_JOINERS = "\u200c\u200d"  # zero-width non-joiner and joiner


def clean_phone(value: str) -> str | None:
    value = value.strip()
    return value if _PHONE.match(value) else None


def clean_text(value: str, multiline: bool = False) -> str:
    """Composed (NFC), control characters out (a tab or newline only where a text area allows them). Other spaces
    (a no-break space pasted from a word processor, Polish typography's after "z", a thin space) are spaces: they
    were dropped as unprintable, and "Jan Kowalski" became "JanKowalski" in the greeting and the clerk's search.
    The zero-width joiners of emoji sequences and of some scripts stay."""
    value = unicodedata.normalize("NFC", (value or "").replace("\r\n", "\n"))
    kept = []
    for c in value:
        if multiline and c in "\n\t":
            kept.append(c)
        elif c.isspace():
            kept.append(" ")
        elif c.isprintable() or c in _JOINERS:
            kept.append(c)
    return "".join(kept).strip()
