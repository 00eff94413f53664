"""Build the app inside each uvicorn worker process from settings passed in the environment: uvicorn starts
its workers by import string, so the settings `retrodig serve` worked out travel as JSON in one variable."""

from __future__ import annotations

import os

from fastapi import FastAPI

from pipeline.options import Options, archive_config
from pipeline.redaction import load_rules
from pipeline.stages.metadata import load_doctype_rules

from .citizens.cards import load_cards
from .citizens.settings import request_settings
from .settings import PortalSettings
from .web import create_app

ENVIRONMENT_VARIABLE = "RETRODIG_PORTAL_SETTINGS"


def environment_for(options: Options, secure_cookies: bool) -> None:
    """The settings every worker builds its app from, checked here once: a bad `requests:` or `smtp:` setting
    (or a country without rules) failed in each worker as it started, and uvicorn started them again forever. The
    redaction and document-type rules are checked too: a broken file failed the clerks' pages one by one."""
    requests = request_settings(archive_config(options.archive), options.configs_dir)
    load_cards(options.configs_dir)
    load_rules(options.configs_dir, ())  # the clerks' redaction and document-type pages read them
    load_doctype_rules(options.configs_dir / "doctypes.yaml")
    settings = PortalSettings(options=options, secure_cookies=secure_cookies, requests=requests)
    os.environ[ENVIRONMENT_VARIABLE] = settings.model_dump_json()


def app_from_environment() -> FastAPI:
    return create_app(PortalSettings.model_validate_json(os.environ[ENVIRONMENT_VARIABLE]))
