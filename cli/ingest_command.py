"""`retrodig ingest`: a batch of scans into the archive, with a progress bar and a summary (or --json)."""

from __future__ import annotations

import sys

import click
from tqdm import tqdm

from pipeline import run
from pipeline.process_memory import keep_freed_memory

from pipeline.report import FAILED, PROCESSED, IngestReport, ItemReport

from .common import build_options, echo_json, language_option, profile_option


class ProgressBar:
    """Pages/s and ETA on stderr; failures are printed as they happen."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar: tqdm | None = None

    def started(self, documents: int, pages: int) -> None:
        if self.enabled and pages:
            self.bar = tqdm(total=pages, unit="page", desc=f"{documents} documents", file=sys.stderr,
                            dynamic_ncols=True, mininterval=0.5)

    def page_done(self) -> None:
        if self.bar:
            self.bar.update(1)

    def item(self, item: ItemReport) -> None:
        if item.status == FAILED and self.enabled:
            message = f"failed: {item.source}: {item.reason}: {item.detail}"
            (self.bar.write(message, file=sys.stderr) if self.bar else click.echo(message, err=True))

    def close(self) -> None:
        if self.bar:
            self.bar.close()


def register(cli: click.Group) -> None:
    @cli.command()
    @click.argument("inputs", nargs=-1, required=True)
    @click.option("--collection", default=None, help='Collection (fond) name, e.g. "Fond 12 – Urbanism".')
    @language_option
    @profile_option
    @click.option("--group", "grouping", type=click.Choice(["auto", "folder", "file"]), default=None,
                  help="How pages become documents (default auto: numbered page files in a folder form one document).")
    @click.option("--jobs", "-j", type=int, default=None, help="Pages processed in parallel (default: all cores).")
    @click.option("--force", is_flag=True, default=None, help="Process again documents already in the archive.")
    @click.option("--max-pixels", type=int, default=None,
                  help="Pages larger than this many pixels (default 250 million) are refused as too-large unless "
                       "they can be decoded reduced (JPEGs, PDF pages).")
    @click.option("--cluster", default=None, metavar="URL",
                  help="Run pages on a Dask cluster, e.g. tcp://scheduler:8786 (workers need the archive at the same "
                       "path); `none`: on this machine, though retrodig.yaml names a cluster.")
    @click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report instead of the summary.")
    @click.pass_context
    def ingest(ctx, inputs, as_json, **values):
        """Ingest scans (files, folders or globs) into the archive."""
        options = build_options(ctx, **values)
        if options.jobs <= 1 and not options.cluster:  # pages are cleaned in this process (SerialExecutor)
            keep_freed_memory()  # see pipeline/process_memory.py; pool and Dask workers do it themselves
        progress = ProgressBar(enabled=sys.stderr.isatty())
        try:
            report = run.ingest(list(inputs), options, events=progress)
        finally:
            progress.close()
        if as_json:
            echo_json(report.to_dict())
        else:
            _print_summary(report)
        ctx.exit(int(report.exit_code))


def _print_summary(report: IngestReport) -> None:
    summary = report.to_dict()["summary"]
    for item in report.items:
        if item.status == FAILED:
            click.echo(f"  failed   {item.source}: {item.reason}: {item.detail}")
        elif item.status == PROCESSED and item.detail:
            click.echo(f"  note     {item.source}: {item.detail}")
    click.echo(
        f"{summary['processed']} processed, {summary['skipped']} skipped, {summary['failed']} failed; "
        f"{_counted(summary['documents'], 'document')}, {_counted(summary['pages'], 'page')} in "
        f"{summary['seconds']:.1f} s "
        f"({summary['pages_per_minute']:.1f} pages/min); archive: {report.archive}"
    )
    if summary["pages_to_review"]:
        flagged = {item.document: item.review_pages for item in report.items if item.review_pages}
        count = summary["pages_to_review"]
        click.echo(f"{count} page{'s' if count != 1 else ''} to review (`retrodig show DOCUMENT` says why): "
                   + "; ".join(f"{doc} p.{', '.join(map(str, pages))}" for doc, pages in flagged.items()))


def _counted(count: int, thing: str) -> str:
    return f"{count} {thing}{'s' if count != 1 else ''}"
