"""`retrodig search` and `retrodig show`."""

from __future__ import annotations

import re
from dataclasses import asdict

import click

from pipeline import api
from pipeline.backends.search.protocol import SearchQuery
from pipeline.backends.search.query import parse_query
from pipeline.errors import UsageError

from .common import build_options, echo_json, what_to_check

_YEAR_RANGE = re.compile(r"^\s*(\d{3,4})?\s*(?:\.\.|-)\s*(\d{3,4})?\s*$|^\s*(\d{3,4})\s*$")


def parse_year_range(value: str | None) -> tuple[int | None, int | None]:
    """'1974..1980', '1974..', '..1980' or '1975'."""
    if not value:
        return None, None
    match = _YEAR_RANGE.match(value)
    if not match:
        raise UsageError(f"--year expects a year or a range like 1974..1980, not '{value}'")
    if match.group(3):
        year = int(match.group(3))
        return year, year
    low, high = (int(g) if g else None for g in match.group(1, 2))
    if low is not None and high is not None and low > high:
        raise UsageError(f"--year range {value} runs backwards")
    return low, high


def register(cli: click.Group) -> None:
    @cli.command()
    @click.argument("query", nargs=-1, required=True)
    @click.option("--year", help="Year or range: 1975, 1974..1980, ..1950, 1990..")
    @click.option("--collection", help="Only this collection.")
    @click.option("--type", "doc_type", help="Only this document type (e.g. building_permit).")
    @click.option("--lang", "language", help="Only documents in this language (ron, or ro).")
    @click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="Hits to show.")
    @click.option("--offset", type=click.IntRange(0), default=0, help="Skip this many hits (paging).")
    @click.option("--exact", is_flag=True, help="No OCR-error tolerance: only exact and inflected forms.")
    @click.option("--json", "as_json", is_flag=True,
                  help="Print hits (with word boxes on the page) and facet counts as JSON.")
    @click.pass_context
    def search(ctx, query, year, collection, doc_type, language, limit, offset, exact, as_json):
        """Search the archive: every word must match, with or without diacritics, in any inflected form;
        "quoted words" for an exact phrase, word* for a prefix."""
        year_from, year_to = parse_year_range(year)
        if not parse_query(" ".join(query)):  # "", "*", '""': it said "no hits", as if the archive had none
            raise UsageError("nothing to search for: type words, \"a phrase\" or a prefix* (e.g. autorizatie)")
        request = SearchQuery(text=" ".join(query), collection=collection, doc_type=doc_type, language=language,
                              year_from=year_from, year_to=year_to, limit=limit, offset=offset, fuzzy=not exact)
        results = api.search(build_options(ctx), request)
        if results.not_yet_indexed:
            count = results.not_yet_indexed
            click.echo(f"note: {count} archived document{'s are' if count != 1 else ' is'} not searched yet (an ingest "
                       "at work indexes them as it goes; after a run that was stopped, the next ingest or "
                       "`retrodig reindex` does)", err=True)
        if as_json:
            echo_json({"total": results.total, "hits": [asdict(h) for h in results.hits],
                       "facets": {name: [asdict(f) for f in counts] for name, counts in results.facets.items()},
                       "not_yet_indexed": results.not_yet_indexed})
            return
        _print_results(results, offset)

    @cli.command()
    @click.argument("document_id")
    @click.option("--json", "as_json", is_flag=True, help="Print the whole catalog record as JSON.")
    @click.option("--text", "with_text", is_flag=True,
                  help="Also print the document's full text, staff corrections in (with --json: as `document_text`).")
    @click.pass_context
    def show(ctx, document_id, as_json, with_text):
        """Show a document's record: metadata, pages, files and where its PDF/A is."""
        record = api.show(build_options(ctx), document_id)
        if as_json:
            # Beside the record's own `text` (the name of its text file).
            echo_json({**record, "document_text": api.document_text(build_options(ctx), record["id"])} if with_text
                      else record)
            return
        _print_record(record)
        if with_text:
            click.echo("")
            click.echo(api.document_text(build_options(ctx), record["id"]), nl=False)


def _print_results(results, offset: int) -> None:
    if not results.total:
        click.echo("no hits")
        return
    if not results.hits:  # paged past the last hit: the search still found pages
        click.echo(f"{_pages(results.total)}; none after the first {offset} (--offset)")
        return
    click.echo(f"{_pages(results.total)}; showing {offset + 1}-{offset + len(results.hits)}")
    for hit in results.hits:
        click.echo(f"{hit.document}  p.{hit.page}  {hit.title or hit.source}")
        click.echo(f"    {hit.snippet}")
    for name, counts in results.facets.items():
        if counts:
            shown = ", ".join(f"{c.value} ({c.count})" for c in counts[:8])
            click.echo(f"{name.replace('_', ' ')}: {shown}{' …' if len(counts) > 8 else ''}")


def _pages_to_review(record: dict) -> str:
    """The pages flagged for review, each with why: no text read, or its quality, and what to check on it where
    something was found (its lines read unsurely, its places with writing left unread). A page flagged for its
    quality alone was a bare number, though ingest says `show` tells why."""
    pages = {page["number"]: page for page in record.get("pages", [])}

    def checks(number: int) -> str:
        page = pages.get(number, {})
        why = ["no text read"] if page.get("words") == 0 else (
            [f"quality {page['quality']:.2f}"] if isinstance(page.get("quality"), (int, float)) else [])
        found = why + what_to_check(len(page.get("unsure_lines", [])), len(page.get("unread_writing", [])),
                                    page.get("file_doubt", ""))
        return f"{number} ({', '.join(found)})" if found else str(number)
    return ", ".join(checks(n) for n in record.get("review_pages", [])) or "-"


def _corrected(record: dict) -> str:
    """What staff corrected in the portal: pages (lines, or read again) and catalog fields."""
    corrections = record.get("corrections") or {}
    parts = ([f"page(s) {', '.join(map(str, corrections['pages']))}"] if corrections.get("pages") else []) + (
        [", ".join(corrections["metadata"])] if corrections.get("metadata") else [])
    return "; ".join(parts) or "-"


def _print_record(record: dict) -> None:
    meta = record["metadata"]
    dates = ", ".join(d["iso"] for d in meta["dates"][:8]) or "-"
    lines = [
        ("document", record["id"]),
        ("title", meta["title"] or "-"),
        ("type", f"{meta['doc_type']}  ({meta['doc_type_reason'] or 'no rule matched'})"),
        ("collection", record["collection"] or "-"),
        ("source", record["source"]),
        ("pages", str(meta["page_count"])),
        ("languages", "+".join(meta["languages"])),
        ("confidence", f"{meta['mean_confidence']:.1f}"),
        ("review", _pages_to_review(record)),
        ("corrected", _corrected(record)),
        ("dates", dates),
        ("pdf", f"{record['folder']}/{record['pdf']}"),
        ("ingested", record["created"]),
    ]
    for label, value in lines:
        click.echo(f"{label:>11}: {value}")
    for entry in record["files"]:
        click.echo(f"{'file':>11}: {entry['source']}  sha256 {entry['sha256'][:16]}…  {entry['pages']} page(s)")


def _pages(count: int) -> str:
    return f"{count} matching page" + ("" if count == 1 else "s")
