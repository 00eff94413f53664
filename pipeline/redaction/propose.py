"""Redaction proposals for a page: boxes over third parties' personal data found in its current OCR words
(staff corrections included), for a clerk to keep, move or remove."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ..config_yaml import read_yaml_file
from ..errors import UsageError, validation_problems
from ..hocr import read_lines
from ..language_codes import DEBIAN_LANGUAGE_MODELS
from ..model import Word
from . import identifiers
from .addresses import addresses
from .lines import LineText
from .model import Proposal, union
from .names import names_after_keywords

CONFIG_FILE = "redaction.yaml"
BREAK_WORDS = 3  # words each side of a line break a phone number may run over (0722 / 987 654, +40 / 722 ...)


@dataclass(frozen=True)
class RedactionRules:
    name_keywords: tuple[str, ...]
    phone_regions: tuple[str, ...]
    public_numbers: frozenset[str] = frozenset()  # the last 9 digits of numbers never to propose (see _public)
    street_prefixes: tuple[str, ...] = ()  # words before a street's name ("str.", "ul.", "вул.")
    street_suffixes: tuple[str, ...] = ()  # words after it ("utca", "straße", "Street")


class RedactionConfig(BaseModel):
    """configs/redaction.yaml, checked: a misspelt key turned off what it named without a word (with
    `name_keywrds:` no name was ever proposed for redaction)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name_keywords: dict[str, list[str]] = {}  # per language: the words a person's name follows
    phone_regions: dict[str, str] = {}  # per language: the country whose phone numbers are looked for
    public_numbers: list[str | int] = []  # numbers never to propose (an office's own)
    street_prefixes: dict[str, list[str]] = {}
    street_suffixes: dict[str, list[str]] = {}

    @field_validator("name_keywords", "street_prefixes", "street_suffixes", "phone_regions", mode="before")
    @classmethod
    def _nothing_is_empty(cls, value):
        return {} if value is None else value  # a key written with nothing after it

    @field_validator("public_numbers", mode="before")
    @classmethod
    def _no_numbers(cls, value):
        return [] if value is None else value

    @field_validator("name_keywords", "street_prefixes", "street_suffixes", "phone_regions")
    @classmethod
    def _languages_known(cls, value: dict):
        """Keyed by Tesseract's language codes: a misspelt one (`rom:` for `ron:`) turned that language's proposals
        off without a word."""
        unknown = sorted(code for code in value if code not in DEBIAN_LANGUAGE_MODELS)
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: no language code Tesseract knows (e.g. ron, pol, ukr, hun)")
        return value

    @field_validator("phone_regions")
    @classmethod
    def _regions_known(cls, value: dict[str, str]):
        unknown = sorted(region for region in value.values() if region not in phonenumbers.SUPPORTED_REGIONS)
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: no country code (two capital letters, e.g. RO, PL, UA)")
        return value


@functools.cache
def _config(configs_dir: Path) -> RedactionConfig:
    path = configs_dir / CONFIG_FILE
    data = read_yaml_file(path, "the redaction rules") or {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping of name_keywords, phone_regions, public_numbers, "
                         "street_prefixes and street_suffixes")
    try:
        return RedactionConfig.model_validate(data)
    except ValidationError as exc:
        raise UsageError(f"{path}: invalid redaction rules: {validation_problems(exc)}") from exc


def load_rules(configs_dir: Path, languages: Iterable[str]) -> RedactionRules:
    """The keywords, street words and phone regions of the document's languages; of every language when none
    is known."""
    config = _config(Path(configs_dir))
    keywords, regions = config.name_keywords, config.phone_regions
    chosen = [lang for lang in languages if lang in keywords or lang in regions] or sorted({*keywords, *regions})
    prefixes, suffixes = config.street_prefixes, config.street_suffixes
    streets = [lang for lang in languages if lang in prefixes or lang in suffixes] or sorted({*prefixes, *suffixes})
    return RedactionRules(
        name_keywords=tuple(k for lang in chosen for k in keywords.get(lang, [])),
        phone_regions=tuple(dict.fromkeys(regions[lang] for lang in chosen if lang in regions))
        or tuple(dict.fromkeys(regions.values())),
        public_numbers=frozenset(_last_digits(str(number)) for number in config.public_numbers),
        street_prefixes=tuple(dict.fromkeys(k for lang in streets for k in prefixes.get(lang) or [])),
        street_suffixes=tuple(dict.fromkeys(k for lang in streets for k in suffixes.get(lang) or [])),
    )


def _last_digits(text: str) -> str:
    """The last 9 digits: a number as printed nationally (0264 265 101) or with its country code (+40 264 ...)."""
    return "".join(c for c in text if c.isdigit())[-9:]


def propose_page(hocr: Path, page: int, rules: RedactionRules) -> list[Proposal]:
    lines = [LineText.of(line) for line in read_lines(hocr) if line.words]
    proposals: list[Proposal] = []
    covered: set[int] = set()  # ids of words already proposed: a number is one kind, not also a phone

    def add(kind: str, words: tuple[Word, ...], reason: str) -> None:
        fresh = tuple(w for w in words if id(w) not in covered)
        if not fresh:
            return
        covered.update(id(w) for w in fresh)
        for run in _by_line(fresh, lines):
            proposals.append(Proposal(page, union([w.bbox for w in run]), kind, tuple(w.text for w in run), reason))

    for line in lines:
        for finding in (*identifiers.national_numbers(line), *identifiers.ibans(line),
                        *identifiers.polish_accounts(line), *identifiers.emails(line)):
            add(finding.kind, finding.words, finding.reason)
    for line in [*lines, *_line_breaks(lines)]:
        for finding in identifiers.phones(line, rules.phone_regions):
            # The archive's own numbers (the town hall's switchboard) are on every record: no one's personal data.
            if _last_digits(" ".join(w.text for w in finding.words)) not in rules.public_numbers:
                add(finding.kind, finding.words, finding.reason)
    stream = [word for line in lines for word in line.words]
    for address in addresses(stream, list(rules.street_prefixes), list(rules.street_suffixes)):
        add("address", address.words, f"address after '{address.keyword}'")
    for name in names_after_keywords(stream, list(rules.name_keywords)):
        add("name", name.words, f"name after '{name.keyword}'")
    return sorted(proposals, key=lambda p: (p.box[1], p.box[0]))


def _line_breaks(lines: list[LineText]) -> list[LineText]:
    """The last words of each line with the first of the next, where a number may run on ("telefon 0722" /
    "987 654": neither half is a phone, and it was not proposed). What they find within one line alone is found
    there already; `add` boxes the rest line by line."""
    return [LineText.of_words((*before.words[-BREAK_WORDS:], *after.words[:BREAK_WORDS]))
            for before, after in zip(lines, lines[1:])]


def _by_line(words: tuple[Word, ...], lines: list[LineText]) -> list[tuple[Word, ...]]:
    """The words split where they change line: one box per line, not one box spanning two lines."""
    runs = []
    for line in lines:
        run = tuple(w for w in line.words if any(w is x for x in words))
        if run:
            runs.append(run)
    return runs
