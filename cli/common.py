"""Small helpers shared by the commands: building Options, JSON output."""

from __future__ import annotations

import json
from typing import Any

import click
from pydantic import ValidationError

from pipeline.errors import UsageError
from pipeline.options import Options


def build_options(ctx: click.Context, **values: Any) -> Options:
    values = {k: v for k, v in values.items() if v is not None}
    try:
        return Options(archive=ctx.obj["archive"], **values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"--{field.replace('_', '-')}: {first['msg']}") from None


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


language_option = click.option("--lang", "languages", default=None,
                               help="Tesseract languages, joined with +, e.g. ron+hun (default: eng).")
profile_option = click.option("--profile", default=None,
                              help="Cleanup profile: a name from configs/profiles or a path to a YAML file.")
