"""`retrodig copy`, `retrodig redactions` and `retrodig verify-copy`: copies of archived records for citizens."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pipeline.errors import ExitCode, UsageError

from .common import build_options, echo_json

_COPY_KEY = re.compile(r"[0-9a-fA-F]{16}|[0-9a-fA-F]{64}")  # a copy's id (its QR code) or its file's SHA-256
MAX_PIXELS = 10_000_000  # a page number or a coordinate beyond this is a typing error, not a page

if TYPE_CHECKING:
    from pipeline.redaction import PageBox

LANGUAGES = ("ro", "pl", "uk", "en")  # as configs/certification.yaml has them
# pipeline.copies (pyHanko, fpdf2: ~1 s of imports) is imported inside the commands that use it, so that
# every other retrodig command, an ingest above all, does not pay for it at start-up.


def register(cli: click.Group) -> None:
    @cli.command()
    @click.argument("document")
    @click.option("--redact", type=click.Choice(["auto", "none"]), default="auto", show_default=True,
                  help="auto: black out what `retrodig redactions` proposes; none: nothing.")
    @click.option("--boxes", "boxes_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="Black out these boxes instead: a JSON list of {page, box: [left, top, right, bottom]} "
                       "in OCR page pixels (e.g. `retrodig redactions --json`, edited).")
    @click.option("--certify", is_flag=True, help="Stamp, QR code, PAdES signature and an entry in the register.")
    @click.option("--lang", "language", type=click.Choice(LANGUAGES), default="en", show_default=True,
                  help="Language of the certification stamp.")
    @click.option("--request-number", default="", help="The citizen's request number, printed in the stamp (without it: the date of issue only).")
    @click.option("--date", "issued", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="Date of issue on the stamp (default: today).")
    @click.option("--request-date", "requested", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="The day the request was filed, on the stamp's request line (default: the date of issue).")
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
                  help="Where to write the PDF.")
    @click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
    @click.pass_context
    def copy(ctx, document, redact, boxes_file, certify, language, request_number, issued, requested, out, as_json):
        """Make a (redacted, certified) copy of DOCUMENT as a PDF."""
        from pipeline import copies

        options = build_options(ctx)
        out = _checked_out(out, options.archive)
        if boxes_file:
            boxes = _read_boxes(boxes_file)
        else:
            boxes = copies.propose_redactions(options, document) if redact == "auto" else []
        result = copies.make_copy(options, document, boxes, out, certify=certify, language=language,
                                  request_number=request_number, issued=issued.date() if issued else None,
                                  requested=requested.date() if requested else None)
        if as_json:
            echo_json({"path": str(result.path), "sha256": result.sha256, "pages": result.pages,
                       "redactions": result.redactions, "words_removed": result.words_removed,
                       "issued": result.issued.to_dict() if result.issued else None})
            return
        click.echo(f"{result.path}: {result.pages} page(s), {result.redactions} box(es) blacked out, "
                   f"{result.words_removed} word(s) removed from the text layer")
        if result.issued:
            demo = " (DEMO certificate: not a qualified signature)" if result.issued.demo_certificate else ""
            click.echo(f"certified copy {result.issued.copy_id}, signed by {result.issued.signer}{demo}")
            click.echo(f"sha256 {result.sha256}")

    @cli.command()
    @click.argument("document")
    @click.option("--json", "as_json", is_flag=True, help="Print the proposals as JSON (what `copy --boxes` reads).")
    @click.pass_context
    def redactions(ctx, document, as_json):
        """List the boxes proposed for redaction on DOCUMENT: personal numbers, IBANs, phones, e-mails, names."""
        from pipeline import copies

        proposals = copies.propose_redactions(build_options(ctx), document)
        if as_json:
            echo_json([p.to_dict() for p in proposals])
            return
        for p in proposals:
            click.echo(f"page {p.page} {p.kind:7} {' '.join(p.words)}  [{', '.join(map(str, p.box))}]  {p.reason}")
        click.echo(f"{len(proposals)} proposal(s)")

    @cli.command("verify-copy")
    @click.argument("copy_id_or_file")
    @click.option("--json", "as_json", is_flag=True, help="Print the register entry as JSON.")
    @click.pass_context
    def verify_copy(ctx, copy_id_or_file, as_json):
        """Look a certified copy up in the register, by its id (from its QR code) or by its file; exit 6 if the
        register does not know it."""
        from pipeline import copies

        options = build_options(ctx)
        path = Path(copy_id_or_file)
        try:
            is_file = path.is_file()
        except OSError:  # a name longer than the file system allows
            is_file = False
        if not is_file and not _COPY_KEY.fullmatch(copy_id_or_file):
            raise UsageError(f"{copy_id_or_file[:200]}: no such file, nor a copy id (16 hex digits) or SHA-256")
        found = (copies.verify_copy_file(options, path.read_bytes()) if is_file
                 else copies.verify_copy(options, copy_id_or_file))
        if as_json:
            echo_json(found.to_dict() if found else None)
        elif found:
            request = f"request {found.request_number}, " if found.request_number else ""
            click.echo(f"copy {found.copy_id} of document {found.document}, {request}issued {found.issued}, "
                       f"{found.pages} page(s), {found.redactions} redaction(s)")
            click.echo(f"sha256 {found.sha256}")
        else:
            click.echo("not a copy issued by this archive (or the file was changed)")
        ctx.exit(int(ExitCode.ok if found else ExitCode.integrity))


def _read_boxes(path: Path) -> list[PageBox]:
    from pipeline.redaction import PageBox

    try:
        items = json.loads(path.read_text(encoding="utf-8"))
        boxes = [PageBox(int(item["page"]), tuple(int(v) for v in item["box"])) for item in items]
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        raise UsageError(f"{path}: not a JSON list of {{page, box: [left, top, right, bottom]}} ({exc})") from exc
    for box in boxes:
        if len(box.box) != 4 or not all(abs(v) <= MAX_PIXELS for v in (box.page, *box.box)):
            raise UsageError(f"{path}: {list(box.box)} on page {box.page} is not a box of four numbers of pixels")
    return boxes


def _checked_out(out: Path, archive: Path) -> Path:
    """Where a copy may be written: a new or a regular file, outside the archive (whose files only retrodig
    writes: a copy written over a document's PDF or a master would go unnoticed, or be found damaged)."""
    if not out.name:
        raise UsageError("--out needs a file name")
    if out.exists() and not out.is_file():
        raise UsageError(f"{out} is not a regular file: a copy is not written over it")
    if out.resolve().is_relative_to(archive.resolve()):
        raise UsageError(f"{out} is inside the archive {archive}: write the copy elsewhere")
    return out
