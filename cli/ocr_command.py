"""`retrodig ocr FILE`: try cleanup and OCR on one file and print the text; writes nothing to the archive."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline import api
from pipeline.pagework import unread_writing_json, unsure_lines_json
from pipeline.process_memory import keep_freed_memory

from .common import build_options, echo_json, language_option, profile_option, what_to_check


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
        keep_freed_memory()  # a short-lived process that cleans pages (pipeline/process_memory.py)
        results = api.read_file(file, options, debug_dir=debug_dir)
        if as_json:
            echo_json({"file": str(file), "pages": [_page_json(r) for r in results]})
            return
        for result in results:
            page = result.text
            if len(results) > 1:
                click.echo(f"--- page {page.number} (confidence {page.mean_confidence:.0f}) ---")
            if result.needs_review:
                checks = "".join(", " + check for check in what_to_check(len(result.unsure_lines),
                                                                          len(result.unread_writing),
                                                                          result.file_doubt))
                click.echo(f"(page {page.number}: quality {result.quality:.2f}{checks}, needs review)", err=True)
            click.echo(page.text)


def _page_json(result) -> dict:
    return {
        "page": result.number, "mean_confidence": round(result.text.mean_confidence, 1),
        "quality": result.quality, "needs_review": result.needs_review, "unsure_lines": unsure_lines_json(result),
        "unread_writing": unread_writing_json(result), "file_doubt": result.file_doubt,
        "languages": result.languages,
        "profile": result.profile, "turn": result.turn, "skew_angle": round(result.skew_angle, 2), "cleanup": list(result.steps),
        "cleanup_seconds": round(result.cleanup_seconds, 3), "ocr_seconds": round(result.ocr_seconds, 3),
        "cleanup_step_seconds": _step_seconds(result.cleanup_step_seconds),
        "text": result.text.text,
    }


def _step_seconds(timings) -> dict[str, float]:
    """Each cleanup step's seconds (also of steps that found nothing to do), in the order they ran."""
    seconds: dict[str, float] = {}
    for step, spent in timings:
        seconds[step] = seconds.get(step, 0.0) + spent
    return {step: round(spent, 4) for step, spent in seconds.items()}
