"""How citizens' requests behave on one archive: `requests:` and `smtp:` in the archive's retrodig.yaml, plus
the country rules (deadlines, fees' currency) and embargo rules of configs/requests.yaml."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.config_yaml import load_yaml
from pipeline.errors import UsageError, validation_problems
from pipeline.options import EnvRef

POLICY_FILE = "requests.yaml"


class SmtpSettings(BaseModel):
    """Where notifications are sent from (`smtp:` in retrodig.yaml); the password is best an {$env: NAME}."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | EnvRef | None = None
    password: str | EnvRef | None = None
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    timeout: float = Field(default=20.0, gt=0)


class RequestSettings(BaseModel):
    """`requests:` in retrodig.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    country: str = Field(default="RO", pattern=r"^[A-Z]{2}$")
    # The address citizens reach the portal at, for links in e-mails (else the address the request came to).
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/\S*)?$")
    download_days: float = Field(default=14, gt=0)  # a download link works this long ...
    download_limit: int = Field(default=5, ge=1)  # ... and this many times
    attachment_mb: float = Field(default=10, gt=0)  # each attached file at most
    attachments_max: int = Field(default=5, ge=0)  # files per request
    submissions_per_hour: int = Field(default=10, ge=1)  # per address: a form robot soon stops
    tracking_failures_per_hour: int = Field(default=30, ge=1)  # wrong codes per address: no enumeration
    # How a citizen pays the fee (the town hall's account, a payment office's hours), by the language of the
    # request (`ro`, `pl`, `uk`, `en`; `default` for the rest), or one text for all: in the e-mail asking for the
    # fee and on the tracking page, with the request's number as the payment's reference.
    payment: dict[str, str] = Field(default_factory=dict)
    smtp: SmtpSettings | None = None

    @field_validator("payment", mode="before")
    @classmethod
    def _one_text_for_all(cls, value):
        return {"default": value} if isinstance(value, str) else value

    def payment_text(self, language: str) -> str:
        """How to pay, in `language` if it is given in it, else the default text ("" when none is set)."""
        return (self.payment.get(language) or self.payment.get("default") or "").strip()


def request_settings(config: dict, configs_dir: Path | None = None) -> RequestSettings:
    """RequestSettings from a checked retrodig.yaml (`options.archive_config`: its `requests:` and `smtp:` are
    mappings); with `configs_dir`, its country checked against the country rules there (a country they lack
    answered every citizen's page with an internal error)."""
    try:
        settings = RequestSettings.model_validate({**(config.get("requests") or {}), "smtp": config.get("smtp")})
    except ValidationError as exc:
        # Every complaint, each under its setting's full name: `smtp: {hots: x}` said only that smtp.host was
        # missing, not that hots is no setting.
        problems = []
        for problem in exc.errors():
            where = ".".join(map(str, problem["loc"]))
            problems.append(f"{where if where.startswith('smtp') else 'requests.' + where}: "
                            f"{problem['msg'].removeprefix('Value error, ')}")
        raise UsageError("in the configuration: " + "; ".join(f"setting {problem}" for problem in problems)) from None
    if configs_dir is not None:
        countries = load_policy(configs_dir).countries
        if settings.country not in countries:
            raise UsageError(f"setting requests.country in the configuration: {settings.country} has no rules in "
                             f"{Path(configs_dir) / POLICY_FILE} (countries: {', '.join(sorted(countries))})")
    return settings


class Country(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    deadline_days: int = Field(ge=1, le=365)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class EmbargoRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    doc_types: tuple[str, ...]
    years: int = Field(ge=1, le=200)
    allowed: tuple[Literal["self", "relative", "representative", "other"], ...] = ("self",)


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    countries: dict[str, Country]
    embargo: tuple[EmbargoRule, ...] = ()


@functools.cache
def load_policy(configs_dir: Path) -> Policy:
    path = Path(configs_dir) / POLICY_FILE
    try:
        return Policy.model_validate(load_yaml(path.read_text(encoding="utf-8"), str(path)) or {})
    except ValidationError as exc:
        raise UsageError(f"{path}: {validation_problems(exc)}") from exc
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"{path}: {exc}") from exc
