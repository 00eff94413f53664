"""Small helpers shared by the commands: building Options, JSON output."""

from __future__ import annotations

import json
from typing import Any

import click
from pipeline.errors import InvalidOptionError, UsageError
from pipeline.options import Options, archive_config


def build_options(ctx: click.Context, search_backend: str | None = None, **values: Any) -> Options:
    """Options from the archive's retrodig.yaml, overridden by what was given on the command line."""
    values = {k: v for k, v in values.items() if v is not None}
    config = archive_config(ctx.obj["archive"])
    search = dict(config.get("search") or {})
    if search_backend:
        search["backend"] = search_backend
    if values.get("cluster") in ("none", ""):  # `--cluster none`: this batch here, whatever the configuration says
        values["cluster"] = None
    elif "cluster" not in values:
        values["cluster"] = config.get("cluster")
    try:
        return Options(archive=ctx.obj["archive"], search=search, copies=config.get("copies") or {}, **values)
    except InvalidOptionError as exc:
        section = exc.field.split(".")[0]
        if section in ("search", "copies") or (section == "cluster" and "cluster" in config):
            raise UsageError(f"setting {exc.field} in the configuration: {exc.reason}") from None
        raise UsageError(f"{_OPTION_NAMES.get(exc.field, '--' + exc.field.replace('_', '-'))}: {exc.reason}") from None


# Options whose name on the command line is not their field's (`--lang` sets `languages`).
_OPTION_NAMES = {"languages": "--lang", "grouping": "--group"}


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def what_to_check(unsure_lines: int, unread_places: int, file_doubt: str = "") -> list[str]:
    """What a page flagged for review shows its reviewer: ["2 lines read unsurely", "1 place with writing left
    unread", and what is wrong with its file's data], or [] when none was found."""
    found = [f"{unsure_lines} line{'s' if unsure_lines != 1 else ''} read unsurely"] if unsure_lines else []
    if unread_places:
        found.append(f"{unread_places} place{'s' if unread_places != 1 else ''} with writing left unread")
    return found + ([file_doubt] if file_doubt else [])


language_option = click.option("--lang", "languages", default=None,
                               help="Tesseract languages, joined with +, e.g. ron+hun; auto: detected on each page "
                                    "(default: eng).")
profile_option = click.option("--profile", default=None,
                              help="Cleanup profile: a name from configs/profiles, a path to a YAML file, or auto "
                                   "(one picked for each page).")
