"""The one place the portal calls the copy-making core (pipeline.copies): redaction proposals, the
redacted certified copy, and the register that confirms a copy. Everything else in the portal speaks of
(page, box) pairs and of what this module returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline import copies
from pipeline.options import Options


@dataclass(frozen=True)
class ProposedBox:
    page: int
    box: tuple[int, int, int, int]  # left, top, right, bottom in pixels of the OCR'd page
    kind: str
    words: str
    reason: str


@dataclass(frozen=True)
class MadeCopy:
    copy_id: str
    sha256: str
    path: Path


def proposals(options: Options, doc_id: str) -> list[ProposedBox]:
    return [ProposedBox(p.page, tuple(p.box), p.kind, " ".join(p.words), p.reason)
            for p in copies.propose_redactions(options, doc_id)]


def certified_copy(options: Options, doc_id: str, boxes: list[tuple[int, tuple[int, int, int, int]]], out: Path,
                   language: str, request_number: str, requested: date) -> MadeCopy:
    """A copy with the boxes burned in and their words gone from the text, stamped (with the request's number and
    the day it was filed), signed and registered."""
    result = copies.make_copy(options, doc_id, [copies.PageBox(page, box) for page, box in boxes], out,
                              certify=True, language=language, request_number=request_number, requested=requested)
    return MadeCopy(result.issued.copy_id, result.sha256, result.path)


def verify(options: Options, copy_id_or_sha256: str):
    """The register's entry for a copy (by the id in its QR code or its SHA-256), or None."""
    return copies.verify_copy(options, copy_id_or_sha256)
