"""Small helpers shared by the commands: building Options, JSON output."""

from __future__ import annotations

import json
from typing import Any

import click
from pydantic import ValidationError

from pipeline.errors import UsageError
from pipeline.options import Options, load_config


CONFIG_KEYS = {"search", "cluster", "copies", "requests", "smtp"}  # what retrodig.yaml may set
# (`requests:` and `smtp:` are the portal's: citizens' requests, read by portal/citizens/settings.py)
_EXAMPLES = {"cluster": " (e.g. tcp://scheduler:8786)", "search.index": " (e.g. retrodig)",
             "copies.verify_url": " (e.g. https://arhiva.primaria.example/verify)"}  # for a value of the wrong form


def build_options(ctx: click.Context, search_backend: str | None = None, **values: Any) -> Options:
    """Options from the archive's retrodig.yaml, overridden by what was given on the command line."""
    values = {k: v for k, v in values.items() if v is not None}
    config = load_config(ctx.obj["archive"])
    for key in ("search", "copies"):
        if not isinstance(config.get(key) or {}, dict):
            raise UsageError(f"setting {key} in the configuration: expected a mapping (e.g. {key}: {{...}})")
    search = dict(config.get("search") or {})
    if search_backend:
        search["backend"] = search_backend
    if values.get("cluster") in ("none", ""):  # `--cluster none`: this batch here, whatever the configuration says
        del values["cluster"]
    elif config.get("cluster") is not None and "cluster" not in values:
        values["cluster"] = config["cluster"]
    unknown = set(config) - CONFIG_KEYS
    if unknown:
        raise UsageError(f"unknown setting(s) in the configuration: {', '.join(sorted(unknown))}")
    try:
        return Options(archive=ctx.obj["archive"], search=search, copies=config.get("copies") or {}, **values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        message = first["msg"]
        if first["type"] == "string_pattern_mismatch":  # not the pattern itself: what was expected
            message = f"'{first['input']}' is not of the expected form" + _EXAMPLES.get(field, "")
        if first["loc"][0] in ("search", "copies") or (first["loc"][0] == "cluster" and "cluster" in config):
            raise UsageError(f"setting {field} in the configuration: {message}") from None
        raise UsageError(f"--{field.replace('_', '-')}: {message}") from None


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def what_to_check(unsure_lines: int, unread_places: int) -> list[str]:
    """What a page flagged for review shows its reviewer: ["2 lines read unsurely", "1 place with writing left
    unread"], or [] when neither was found."""
    found = [f"{unsure_lines} line{'s' if unsure_lines != 1 else ''} read unsurely"] if unsure_lines else []
    if unread_places:
        found.append(f"{unread_places} place{'s' if unread_places != 1 else ''} with writing left unread")
    return found


language_option = click.option("--lang", "languages", default=None,
                               help="Tesseract languages, joined with +, e.g. ron+hun (default: eng).")
profile_option = click.option("--profile", default=None,
                              help="Cleanup profile: a name from configs/profiles or a path to a YAML file.")
