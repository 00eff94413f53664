"""`retrodig verify` and `retrodig reindex`: keeping the archive sound."""

from __future__ import annotations

import sys
from dataclasses import asdict

import click
from tqdm import tqdm

from pipeline import api
from pipeline.errors import ExitCode

from .common import build_options, echo_json


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
    @click.pass_context
    def verify(ctx, as_json):
        """Re-check every master's checksum and each document's files; exit 6 if any changed or went missing."""
        report = api.verify(build_options(ctx))
        if as_json:
            echo_json({"documents": report.documents_checked, "masters": report.masters_checked,
                       "problems": [asdict(p) for p in report.problems], "damaged_records": report.damaged_records,
                       "damaged_documents": report.damaged_documents,
                       "missing_files": [asdict(m) for m in report.missing_files],
                       "changed_files": [asdict(m) for m in report.changed_files],
                       "unreadable_files": [asdict(m) for m in report.unreadable_files],
                       "unreferenced_masters": report.unreferenced_masters,
                       "unindexed_documents": report.unindexed_documents,
                       "missing_documents": report.missing_documents, "search_index": report.search_index})
        else:
            for problem in report.problems:
                owner = f"document {problem.document}" if problem.document else "no readable record names it"
                click.echo(f"  {problem.problem}: {problem.master} ({owner})")
            for damaged in report.damaged_records:
                click.echo(f"  damaged record: {damaged}")
            for missing in report.missing_files:
                click.echo(f"  missing: {missing.file} (document {missing.document})")
            for changed in report.changed_files:
                click.echo(f"  checksum-changed: {changed.file} (document {changed.document})")
            for unreadable in report.unreadable_files:
                click.echo(f"  unreadable: {unreadable.file} (document {unreadable.document}): its permissions?")
            for doc_id in report.missing_documents:
                click.echo(f"  missing document: {doc_id} (its folder is gone; search still finds it)")
            state = "all intact" if report.ok else f"{report.problem_count} problem(s)"
            click.echo(f"{report.masters_checked} masters of {report.documents_checked} documents checked: {state}")
            if report.unreferenced_masters:
                click.echo(f"{len(report.unreferenced_masters)} master(s) belong to no document (files that failed "
                           "after they were kept; ingesting them again uses them): --json lists them")
            if report.unindexed_documents:
                click.echo(f"{len(report.unindexed_documents)} document(s) are not found by search (a run stopped "
                           "before it indexed them): `retrodig reindex` adds them (--json lists them)")
            if report.search_index:
                click.echo(f"The search index was not compared with the archive: {report.search_index}")
            if not report.ok:
                click.echo("Ingest the original scans again with --force to restore what is damaged or missing"
                           + (" (`retrodig reindex` drops a missing document from search)." if report.missing_documents
                              else "."))
        ctx.exit(int(ExitCode.ok if report.ok else ExitCode.integrity))

    @cli.command()
    @click.option("--backend", "search_backend", type=click.Choice(["embedded", "elasticsearch"]), default=None,
                  help="Rebuild this backend's index (default: the one the archive's retrodig.yaml names).")
    @click.pass_context
    def reindex(ctx, search_backend):
        """Rebuild the search index from the archive on disk (the old index serves until the new one is ready)."""

        def progress(documents, total):
            return tqdm(documents, total=total, unit="doc", desc="reindex", file=sys.stderr,
                        disable=not sys.stderr.isatty())

        options = build_options(ctx, search_backend=search_backend)
        damaged: list = []
        count = api.reindex(options, progress=progress, damaged=damaged)
        click.echo(f"reindexed {count} document{'s' if count != 1 else ''} into the {options.search.backend} index")
        if damaged:  # the others are searchable again; these wait for their scans (exit 6, as `verify`)
            for error in damaged:
                click.echo(f"  passed over, damaged: {error}", err=True)
            click.echo(f"{len(damaged)} document(s) passed over: ingest their scans again with --force to restore "
                       "them (`retrodig verify` names every damaged file)", err=True)
            ctx.exit(int(ExitCode.integrity))
