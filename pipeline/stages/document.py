"""Assemble a document from its processed pages: metadata, PDF/A, text sidecars and the catalog record.

Everything is written into a staging folder; the orchestrator publishes it with one rename.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..archive import made_files
from ..language_codes import TWO_LETTER_CODES
from ..model import DocumentMetadata
from ..pagework import PageResult, unread_writing_json, unsure_lines_json
from ..pdfa import PdfInfo
from .metadata import DocTypeRules, extract_metadata
from .preflight import ScanFile, sha256_of
from .render import RenderPage, render_pdfa

RECORD_VERSION = 1


@dataclass(frozen=True)
class DocumentInput:
    doc_id: str
    source: str
    collection: str
    files: tuple[ScanFile, ...]
    masters: tuple[Path, ...]
    languages: tuple[str, ...]
    profile: str


def assemble_document(doc: DocumentInput, pages: list[PageResult], rules: DocTypeRules, staging: Path,
                      archive_root: Path) -> dict:
    """Write the document folder into `staging` and return its catalog record (also in document.json)."""
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "pages").mkdir(parents=True)
    pages = sorted(pages, key=lambda p: p.number)
    metadata = extract_metadata([p.text for p in pages], _languages_read(doc, pages), rules)
    for page in pages:
        shutil.copyfile(page.hocr, staging / "pages" / f"{page.number:04d}.hocr")
        (staging / "pages" / f"{page.number:04d}.txt").write_text(page.text.text + "\n", encoding="utf-8")
    (staging / "document.txt").write_text(_full_text(pages), encoding="utf-8")
    main_language = metadata.languages[0] if metadata.languages else ""
    info = PdfInfo(title=metadata.title or doc.source, language=_bcp47(main_language),
                   subject=doc.collection, keywords=metadata.doc_type)
    render_pdfa([RenderPage(p.access_image, p.text_pdf, p.placement) for p in pages], staging / "document.pdf", info)
    record = _record(doc, pages, metadata, archive_root)
    # Fixity of what was made, as of the masters: `verify` finds a PDF cut short or a page's text emptied (nothing
    # rewrites a published document's folder: corrections and portal images live beside it).
    record["checksums"] = {name: sha256_of(staging / name) for name in made_files(record)}
    (staging / "document.json").write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return record



def _languages_read(doc: DocumentInput, pages: list[PageResult]) -> tuple[str, ...]:
    """The languages asked for, or with --lang auto those detected on the pages, most pages first."""
    if tuple(doc.languages) != ("auto",):
        return tuple(doc.languages)
    counts: dict[str, int] = {}
    for page in pages:
        for code in filter(None, page.languages.split("+")):
            counts[code] = counts.get(code, 0) + 1
    return tuple(sorted(counts, key=lambda code: -counts[code])) or ("eng",)


def _full_text(pages: list[PageResult]) -> str:
    return "\n\f".join(page.text.text for page in pages) + "\n"


def _record(doc: DocumentInput, pages: list[PageResult], meta: DocumentMetadata, archive_root: Path) -> dict:
    return {
        "version": RECORD_VERSION,
        "id": doc.doc_id,
        "source": doc.source,
        "collection": doc.collection,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "files": [
            {"source": os.path.abspath(f.path), "sha256": f.sha256, "size": f.size, "format": f.format,
             "pages": f.page_count, "master": str(m.relative_to(archive_root))}
            for f, m in zip(doc.files, doc.masters)
        ],
        "pages": [
            {"number": p.number, "width": p.text.width, "height": p.text.height, "dpi": p.text.dpi,
             "words": len(p.text.words), "mean_confidence": round(p.text.mean_confidence, 1),
             "skew_angle": round(p.skew_angle, 2), "turn": p.turn, "cleanup": list(p.steps),
             "profile": p.profile, "languages": p.languages, "quality": p.quality,
             "needs_review": p.needs_review, "unsure_lines": unsure_lines_json(p),
             "unread_writing": unread_writing_json(p), **({"file_doubt": p.file_doubt} if p.file_doubt else {}),
             "scan_page": p.scan_page or p.number, "part": p.part,
             "text": f"pages/{p.number:04d}.txt", "hocr": f"pages/{p.number:04d}.hocr"}
            for p in pages
        ],
        "metadata": {
            "title": meta.title,
            "doc_type": meta.doc_type,
            "doc_type_reason": meta.doc_type_reason,
            "languages": list(meta.languages),
            "mean_confidence": round(meta.mean_confidence, 1),
            "dates": [asdict(d) for d in meta.dates],
            "years": list(meta.years),
            "page_count": meta.page_count,
        },
        "ocr": {"languages": list(doc.languages), "profile": doc.profile},
        "review_pages": [p.number for p in pages if p.needs_review],
        "pdf": "document.pdf",
        "text": "document.txt",
    }


def _bcp47(code: str) -> str:
    """The PDF's /Lang for a Tesseract language code; "" for a code not known (left out rather than guessed)."""
    return TWO_LETTER_CODES.get(code, "")
