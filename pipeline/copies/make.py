"""Making a copy of an archived document for a citizen: redacted (boxes burned into the scan, their words gone
from the text layer) and, when asked, certified (stamp with QR code, PAdES signature, entry in the register).

The QR code holds `<verify_url>/<copy id>`, not the file's hash: a file cannot contain its own SHA-256. The
SHA-256 of the final signed file is put in the register under that id, so the verification page shows what
the genuine copy's hash is and confirms a file by hashing it (or finds a copy by the hash alone)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Protocol

import pikepdf

from ..archive import Archive, checked_file
from ..corrections import current_record, page_hocr_path
from ..errors import DamagedArchiveError, UsageError
from ..hocr import page_size
from ..options import Options
from ..pdfa import PdfInfo, make_pdfa
from ..redaction.model import Box
from . import registry
from .layout import CopyPage, write_copy_pdf
from .pages import burn_boxes, page_geometries, render_page
from .signing import SIGNING_PRODUCER, sign_pdf, signing_key
from .stamp import make_stamp, stamp_languages
from .text_layer import kept_lines


MAX_REQUEST_NUMBER = 40  # characters: what fits on the stamp's line (a longer one ran off the page)


class HasPageBox(Protocol):
    page: int
    box: Box


@dataclass(frozen=True)
class CopyResult:
    path: Path
    sha256: str
    pages: int
    redactions: int  # boxes burned in
    words_removed: int  # from the text layer
    issued: registry.IssuedCopy | None  # the register entry of a certified copy


def make_copy(options: Options, doc_id: str, boxes: Iterable[HasPageBox], out: Path, *, certify: bool = False,
              language: str = "en", request_number: str = "", issued: date | None = None,
              requested: date | None = None) -> CopyResult:
    archive = _archive(options)
    record = current_record(archive, archive.load_document(doc_id))
    by_page = _boxes_by_page(boxes, len(record["pages"]))
    if certify:
        _check_certification(options, language, request_number)
        issued = issued or date.today()
        if issued > date.today():  # signed today, the stamp would say it was issued on a day to come
            raise UsageError(f"the copy's date of issue {issued.isoformat()} is in the future")
        if requested and requested > issued:  # a stamp saying the copy was asked for after it was issued
            raise UsageError(f"the request's date {requested.isoformat()} is after the copy's date of issue "
                             f"{issued.isoformat()}")
    pages, removed = _copy_pages(archive, record, by_page)
    redactions = sum(len(b) for b in by_page.values())
    # No words of the record in the file's metadata (title, XMP): its title is its first line as read, which can
    # hold a name the copy redacts ("Se adeverește că numita Stoica Elena, ..." was the copy's title).
    title = f"Copy of archive record {doc_id}"
    if not certify:
        data = _as_pdfa(write_copy_pdf(pages, None, title), PdfInfo(title=title))
        digest = _write(out, data)
        return CopyResult(out, digest, len(pages), redactions, removed, None)
    copy_id = secrets.token_hex(8)
    url = f"{options.copies.verify_url.rstrip('/')}/{copy_id}"
    stamp = make_stamp(options.configs_dir, language, request_number, issued, copy_id, url, requested)
    # Produced, last, by pyHanko signing it: named so before, the document information and the XMP agree after
    # (pyHanko adds its name to the information's /Producer unless it is there, and writes it alone in the XMP).
    data = _as_pdfa(write_copy_pdf(pages, stamp, title), PdfInfo(title=title, language=language,
                                                                 producer=SIGNING_PRODUCER))
    key = signing_key(options.copies, archive.root)
    signed, signer = sign_pdf(data, key, reason=stamp.title, location=options.copies.location)
    entry = registry.IssuedCopy(
        copy_id=copy_id, sha256=hashlib.sha256(signed).hexdigest(), document=doc_id,
        request_number=request_number, issued=issued.isoformat(),
        issued_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), language=language, pages=len(pages),
        redactions=redactions, signer=signer, demo_certificate=key.demo)
    # Written beside its place first, registered, then put in place: a copy the register lists was delivered (one
    # whose folder refused it was listed as issued), and one delivered is in the register.
    partial = _write_partial(out, signed)
    try:
        registry.register(copies_dir(archive), entry)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, out)
    return CopyResult(out, entry.sha256, len(pages), redactions, removed, entry)


def verify_copy(options: Options, copy_id_or_sha256: str) -> registry.IssuedCopy | None:
    """The register entry of a certified copy, by the id in its QR code or by the SHA-256 of its file."""
    return registry.find(copies_dir(_archive(options)), copy_id_or_sha256)


def verify_copy_file(options: Options, data: bytes) -> registry.IssuedCopy | None:
    """The register entry of the copy whose file is exactly `data`; None for any other file."""
    return verify_copy(options, hashlib.sha256(data).hexdigest())


def copies_dir(archive: Archive) -> Path:
    return archive.root / "copies"


def _copy_pages(archive: Archive, record: dict, by_page: dict[int, list[Box]]) -> tuple[list[CopyPage], int]:
    folder = archive.document_dir(record["id"])
    pdf_path = checked_file(folder, record, record.get("pdf", "document.pdf"))
    geometries = page_geometries(pdf_path)
    if len(geometries) != len(record["pages"]):  # another record's PDF/A, from before checksums were kept
        raise DamagedArchiveError(pdf_path, f"it has {len(geometries)} page(s), the record {len(record['pages'])}")
    pages, removed = [], 0
    for entry, geometry in zip(record["pages"], geometries):
        number = entry["number"]
        hocr = page_hocr_path(archive, record["id"], number)
        if hocr == archive.page_hocr(record["id"], number) and entry.get("hocr"):  # as read, not as corrected
            checked_file(folder, record, entry["hocr"])
        boxes = by_page.get(number, [])
        try:  # without its OCR the page's text layer (and what redaction takes out of it) is unknown
            # The pixels of the page's current reading, which its boxes and words are in: a page read again with
            # another profile is read at another scale than the record's size says (its boxes, placed by that
            # size, fell hundreds of pixels from their words, and the copy showed what they were to hide).
            ocr_size = page_size(hocr)
            if not all(ocr_size):
                ocr_size = (entry.get("width"), entry.get("height"))
            lines, dropped = kept_lines(hocr, boxes)
        except (OSError, ET.ParseError) as exc:
            raise DamagedArchiveError.of(hocr, exc) from exc
        for left, top, right, bottom in boxes:  # it blacked nothing out and was counted and registered as done
            if right <= 0 or bottom <= 0 or left >= ocr_size[0] or top >= ocr_size[1]:
                raise UsageError(f"redaction box {[left, top, right, bottom]} on page {number} lies outside the "
                                 f"page ({ocr_size[0]} x {ocr_size[1]} px)")
        image = burn_boxes(render_page(pdf_path, number, geometry), boxes, ocr_size)
        pages.append(CopyPage(image, geometry.width_pt, geometry.height_pt, ocr_size, lines))
        removed += dropped
    return pages, removed


def _boxes_by_page(boxes: Iterable[HasPageBox], page_count: int) -> dict[int, list[Box]]:
    by_page: dict[int, list[Box]] = {}
    for item in boxes:
        left, top, right, bottom = (int(v) for v in item.box)
        if not 1 <= item.page <= page_count:
            raise UsageError(f"a redaction box is on page {item.page}, but the document has {page_count} page(s)")
        if left >= right or top >= bottom:
            raise UsageError(f"redaction box {list(item.box)} on page {item.page} is empty")
        by_page.setdefault(item.page, []).append((left, top, right, bottom))
    return by_page


def _check_certification(options: Options, language: str, request_number: str) -> None:
    if language not in stamp_languages(options.configs_dir):
        raise UsageError(f"no certification text for language '{language}' "
                         f"(languages: {', '.join(stamp_languages(options.configs_dir))})")
    if len(request_number) > MAX_REQUEST_NUMBER or not request_number.isprintable():
        raise UsageError(f"a request number is one short line (at most {MAX_REQUEST_NUMBER} characters) that the "
                         "stamp prints, e.g. 123/2025")


def _as_pdfa(data: bytes, info: PdfInfo) -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        make_pdfa(pdf, info)
        pdf.save(out, fix_metadata_version=True)
    return out.getvalue()


def _write(out: Path, data: bytes) -> str:
    os.replace(_write_partial(out, data), out)
    return hashlib.sha256(data).hexdigest()


def _write_partial(out: Path, data: bytes) -> Path:
    """`data` in a hidden file beside `out`, to be moved onto it; a folder that refuses it is the user's to mend."""
    out = Path(out)
    partial = out.with_name(f".{out.name}.part")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(data)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)  # written in part (a full disk)
        raise UsageError(f"cannot write the copy to {out}: {exc.strerror or exc}") from exc
    return partial


def _archive(options: Options) -> Archive:
    archive = Archive(options.archive)
    if not archive.exists():
        raise UsageError(f"no archive at {archive.root} (run `retrodig ingest` first, or pass --archive)")
    return archive
