"""`retrodig ocr FILE`: try cleanup and OCR on one file and print the text; writes nothing to the archive."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline import api

from .common import build_options, echo_json, language_option, profile_option


def register(cli: click.Group) -> None:
    @cli.command()
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @language_option
    @profile_option
    @click.option("--debug-dir", type=click.Path(file_okay=False, path_type=Path),
                  help="Write each cleanup step's image here, to see what happened.")
    @click.option("--json", "as_json", is_flag=True, help="Print pages with text and mean confidence as JSON.")
    @click.pass_context
    def ocr(ctx, file, debug_dir, as_json, **values):
        """Clean and OCR one file, print its text."""
        options = build_options(ctx, **values)
        pages = api.ocr_file(file, options, debug_dir=debug_dir)
        if as_json:
            echo_json({"file": str(file), "pages": [
                {"page": p.number, "mean_confidence": round(p.mean_confidence, 1), "text": p.text} for p in pages]})
            return
        for page in pages:
            if len(pages) > 1:
                click.echo(f"--- page {page.number} (confidence {page.mean_confidence:.0f}) ---")
            click.echo(page.text)
