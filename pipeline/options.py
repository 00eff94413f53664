"""One frozen options model: the CLI, the portal and the Python API all build it."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .config_yaml import load_yaml
from .errors import InvalidOptionError, UsageError
from .language_codes import CEDILLA_TO_COMMA, ROMANIAN, TESSERACT_CODE

# Profiles and rules live in the repository's configs/; $RETRODIG_CONFIGS points elsewhere (e.g. in a container).
CONFIGS_DIR = Path(os.environ.get("RETRODIG_CONFIGS") or Path(__file__).resolve().parent.parent / "configs")
DEFAULT_LANGUAGES = ("eng",)
Grouping = Literal["auto", "folder", "file"]

_SCHEDULER = r"^(tcp|tls|ws|wss)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}/?$"  # host or [IPv6]:port


def default_archive() -> Path:
    """`--archive`, else $RETRODIG_ARCHIVE, else ./archive."""
    return Path(os.environ.get("RETRODIG_ARCHIVE") or "archive")


def parse_languages(value: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """'ron+hun' (Tesseract's own syntax) or a sequence of codes -> ('ron', 'hun'); 'auto' -> ('auto',):
    each page's languages are detected (pipeline.stages.language)."""
    if value in ("auto", ("auto",), ["auto"]):
        return ("auto",)
    if not isinstance(value, (str, tuple, list)) or not all(isinstance(part, str) for part in value):
        raise UsageError.said("languages: expected codes such as 'ron+hun' or ['ron', 'hun'], got %(value)s",
                              value=repr(value)[:100])
    parts = value.split("+") if isinstance(value, str) else list(value)
    # Tesseract's codes are lower case (ENG is eng); a code given twice is read once.
    codes = tuple(dict.fromkeys(p.strip().lower() for p in parts if p.strip()))
    if not codes:
        raise UsageError.said("no OCR language given (e.g. --lang ron+hun)")
    for code in codes:
        if not TESSERACT_CODE.match(code):
            raise UsageError.said("'%(code)s' is not a Tesseract language code (e.g. ron, pol, ukr, deu)", code=code)
        if code == "osd":
            raise UsageError.said("'osd' is Tesseract's orientation and script model, not a language")
    return codes


class EnvRef(BaseModel):
    """A secret kept out of config files: `{"$env": "NAME"}` is read from the environment when it is used."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    env: str = Field(alias="$env", min_length=1)

    def resolve(self) -> str:
        value = os.environ.get(self.env)
        if value is None:
            raise UsageError(f"the configuration refers to the environment variable {self.env}, which is not set")
        return value


def resolve_secret(value: str | EnvRef | None) -> str | None:
    return value.resolve() if isinstance(value, EnvRef) else value


class SearchSettings(BaseModel):
    """Which search backend serves the archive (`search:` in the archive's retrodig.yaml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: Literal["embedded", "elasticsearch"] = "embedded"
    # Elasticsearch only:
    url: str = "http://localhost:9200"
    index: str = Field(default="retrodig", pattern=r"^[a-z0-9][a-z0-9_-]*$")  # an alias: reindex swaps it
    username: str | EnvRef | None = None
    password: str | EnvRef | None = None
    api_key: str | EnvRef | None = None
    ca_certs: str | None = None
    verify_certs: bool = True
    timeout: float = Field(default=30.0, gt=0)

    @field_validator("url")
    @classmethod
    def _an_http_address(cls, value: str) -> str:
        """Checked with the settings, before anything is done: a bad one was found only when the index was opened,
        after an ingest had made the archive's folders."""
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - a port that is no number raises here
        except ValueError as exc:
            raise ValueError(f"{value} is no address ({exc})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value} is no address: expected http(s)://HOST[:PORT]")
        return value


class CopiesSettings(BaseModel):
    """Certified copies (`copies:` in the archive's retrodig.yaml): the signing certificate and where the
    public verification page is. Without a certificate, copies are signed with a self-signed demo certificate
    made in <archive>/copies/demo-signing.p12 (not a qualified signature)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    certificate: Path | None = None  # PKCS#12 file with the key, its certificate and the chain
    passphrase: str | EnvRef | None = None
    # The QR code on each copy points to <verify_url>/<copy id>.
    verify_url: str = Field(default="http://127.0.0.1:8000/verify", pattern=r"^https?://\S+$")
    location: str = ""  # written into the signature, e.g. the town hall's name and town


CONFIG_FILE = "retrodig.yaml"
CONFIG_KEYS = {"search", "cluster", "copies", "requests", "smtp"}  # what retrodig.yaml may set
# (`requests:` and `smtp:` are the portal's: citizens' requests, read by portal/citizens/settings.py)
ARCHIVE_SETTINGS = ("search", "copies", "cluster")  # the settings of retrodig.yaml that Options holds
# For a value of the wrong form, what the right one looks like.
_EXAMPLES = {"cluster": " (e.g. tcp://scheduler:8786)", "search.index": " (e.g. retrodig)",
             "copies.verify_url": " (e.g. https://arhiva.primaria.example/verify)"}


def load_config(archive: Path) -> dict:
    """Settings from `$RETRODIG_CONFIG`, else `<archive>/retrodig.yaml`, else none (all defaults). A file the
    variable names must be there: misspelt, it was passed over, and the archive ran on defaults (the embedded
    index, the demo certificate) with nothing said."""
    named = os.environ.get("RETRODIG_CONFIG")
    path = Path(named or Path(archive) / CONFIG_FILE)
    try:
        if not path.is_file():
            if named:
                raise UsageError(f"RETRODIG_CONFIG names {str(path)[:200]}, which is no file")
            return {}
        data = load_yaml(path.read_text(encoding="utf-8"), str(path)) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid YAML ({exc})") from exc
    except OSError as exc:  # a name longer than the file system allows, a folder that cannot be read
        raise UsageError(f"{str(path)[:200]}: cannot be read ({exc.strerror})") from exc
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping of settings (e.g. search: {{backend: embedded}})")
    return data


def archive_config(archive: Path) -> dict:
    """`load_config`, checked: only known settings, and its sections (`search:`, `copies:`, `requests:`, `smtp:`)
    as mappings."""
    config = load_config(archive)
    for key in ("search", "copies", "requests", "smtp"):
        if not isinstance(config.get(key) or {}, dict):
            raise UsageError(f"setting {key} in the configuration: expected a mapping (e.g. {key}: {{...}})")
    unknown = set(config) - CONFIG_KEYS
    if unknown:
        raise UsageError(f"unknown setting(s) in the configuration: {', '.join(sorted(unknown))}")
    return config


def _invalid(error: ValidationError) -> InvalidOptionError:
    """Pydantic's first complaint as retrodig's typed error: what is wrong, not the pattern it failed."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    reason = first["msg"].removeprefix("Value error, ")  # a validator's own words, without pydantic's label
    if first["type"] == "string_pattern_mismatch":
        reason = f"'{first['input']}' is not of the expected form" + _EXAMPLES.get(field, "")
    return InvalidOptionError(field, reason, first.get("input"))


class Options(BaseModel):
    """Everything a run needs to know. Immutable: derive a new one with `model_copy(update=...)`, which checks
    the changed values as the first were. What is not given of the archive's search backend, Dask cluster and
    certified copies is taken from its retrodig.yaml (`archive_config`), so the CLI, the portal and the Python API
    use an archive alike. A value an option cannot take raises InvalidOptionError (a UsageError)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    archive: Path = Field(default_factory=default_archive)
    collection: str = ""
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    profile: str = "default"
    grouping: Grouping = "auto"
    jobs: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=256)
    force: bool = False
    # A page larger than this many pixels is refused as a decompression bomb.
    max_pixels: int = Field(default=250_000_000, ge=1_000_000, le=100_000_000_000)
    # Used for PDF pages with no image to measure, and for images whose dpi tag is missing or absurd.
    default_dpi: int = Field(default=300, ge=70, le=1200)
    jpeg_quality: int = Field(default=85, ge=30, le=100)
    tesseract_timeout: float = Field(default=600.0, gt=0)
    configs_dir: Path = CONFIGS_DIR
    search: SearchSettings = Field(default_factory=SearchSettings)
    # A Dask scheduler (tcp://host:8786; tls://, ws://, wss:// as Dask knows them): pages then run on its workers
    # instead of a local pool (`--jobs` is ignored). Workers must see the masters and the archive's work folder at
    # the same paths (shared storage).
    cluster: str | None = Field(default=None, pattern=_SCHEDULER)
    copies: CopiesSettings = Field(default_factory=CopiesSettings)

    def __init__(self, **values):
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise _invalid(exc) from None

    @classmethod
    def model_validate(cls, obj, **kwargs):
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            raise _invalid(exc) from None

    def model_copy(self, *, update=None, deep: bool = False):
        """A copy; with `update`, new Options made of these values and the changed ones, all checked (pydantic's
        own copy takes changed values unchecked: "ron+hun" was read as the languages r, o, n, +, h, u, n)."""
        if not update:
            return super().model_copy(deep=deep)
        given = {name: getattr(self, name) for name in self.model_fields_set}
        return type(self)(**{**given, **update})

    @model_validator(mode="before")
    @classmethod
    def _archive_settings(cls, data):
        """The archive's retrodig.yaml says what search backend serves it, which Dask cluster reads its pages and
        how its copies are signed; what the caller did not say of these is taken from there. (The Python API used
        the embedded index of an archive served by Elasticsearch, and an ingest indexed into it, where neither the
        CLI nor the portal searched.)"""
        if not isinstance(data, dict) or all(key in data for key in ARCHIVE_SETTINGS):
            return data
        archive = data.get("archive") or default_archive()
        if not isinstance(archive, (str, os.PathLike)):
            return data  # said by the field's own check
        config = archive_config(Path(archive))
        taken = {key: config[key] for key in ARCHIVE_SETTINGS if key not in data and config.get(key) is not None}
        return {**data, **taken} if taken else data

    @field_validator("languages", mode="before")
    @classmethod
    def _split_languages(cls, value):
        """As parse_languages; what it refuses is an InvalidOptionError as every other option's bad value is (a
        caller catching that missed `languages="r o n"`), its words kept for the portal to translate."""
        try:
            return parse_languages(value)
        except InvalidOptionError:
            raise
        except UsageError as exc:
            error = InvalidOptionError("languages", str(exc).removeprefix("languages: "), value)
            error.template, error.values = exc.template, exc.values
            raise error from None

    @field_validator("collection")
    @classmethod
    def _one_line(cls, value: str) -> str:
        """A collection's name as one line of text: it goes into the catalog, the PDF's metadata and facets. In
        Unicode's composed form (NFC): typed decomposed (macOS writes ș as s and a comma below), the same fond's
        name was another facet and another filter."""
        value = unicodedata.normalize("NFC", value)
        return " ".join("".join(c for c in value if c.isprintable() or c.isspace()).split())[:500]

    @model_validator(mode="before")
    @classmethod
    def _romanian_collection(cls, data):
        """A batch read in Romanian names its collection with ș and ț as its pages are spelt (stages.orthography):
        typed with the cedilla (ş ţ), Timişoara's fond was a collection apart from Timișoara's. So does a batch whose
        languages are detected (`auto`): its pages may be Romanian, and no other language it reads writes ş or ţ."""
        if isinstance(data, dict) and isinstance(data.get("collection"), str) and "languages" in data:
            try:
                languages = parse_languages(data["languages"])
            except UsageError:
                return data  # said by the languages' own check
            romanian = ROMANIAN in languages or languages == ("auto",)
            if romanian:  # composed first: a decomposed s and cedilla is ş only then
                return {**data, "collection": unicodedata.normalize("NFC", data["collection"]).translate(
                    CEDILLA_TO_COMMA)}
        return data

    @property
    def tesseract_languages(self) -> str:
        return "+".join(self.languages)


def given_options(options) -> Options:
    """`options`, checked to be Options (the Python API's callers pass what they like)."""
    if not isinstance(options, Options):
        raise UsageError(f"expected retrodig's Options (pipeline.api.Options), got {type(options).__name__}")
    return options
