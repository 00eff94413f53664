"""Redaction proposals for every page of an archived document, from its current OCR (corrections included)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..archive import Archive
from ..corrections import page_hocr_path
from ..errors import DamagedArchiveError, UsageError
from ..options import Options
from ..redaction import Proposal, load_rules, propose_page


def propose_redactions(options: Options, doc_id: str) -> list[Proposal]:
    archive = Archive(options.archive)
    if not archive.exists():
        raise UsageError(f"no archive at {archive.root} (run `retrodig ingest` first, or pass --archive)")
    record = archive.load_document(doc_id)
    languages = record.get("metadata", {}).get("languages") or record.get("ocr", {}).get("languages") or []
    rules = load_rules(options.configs_dir, languages)
    proposals = []
    for entry in record["pages"]:
        hocr = page_hocr_path(archive, doc_id, entry["number"])
        try:  # a page without its OCR would get no proposal at all: a copy made from them would show everything
            proposals += propose_page(hocr, entry["number"], rules)
        except (OSError, ET.ParseError) as exc:
            raise DamagedArchiveError.of(hocr, exc) from exc
    return proposals
