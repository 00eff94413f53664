"""Render: one searchable PDF/A-2b per document, the access images with Tesseract's text layer on top."""

from __future__ import annotations

import io
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import img2pdf
import pikepdf

from ..pdfa import PdfInfo, make_pdfa


@dataclass(frozen=True)
class RenderPage:
    image: Path  # access copy (JPEG or PNG) carrying its dpi, which sets the page size
    text_pdf: Path  # Tesseract's invisible text layer for the same page geometry


def render_pdfa(pages: list[RenderPage], out: Path, info: PdfInfo) -> Path:
    """Write the document's PDF/A-2b to `out` (images are embedded as they are, never re-encoded)."""
    image_pdf = img2pdf.convert([str(p.image) for p in pages], rotation=img2pdf.Rotation.ifvalid)
    with ExitStack() as stack, pikepdf.open(io.BytesIO(image_pdf)) as pdf:
        for page, source in zip(pdf.pages, pages):
            # qpdf copies foreign stream data lazily, at save: the text layers stay open until then.
            text_layer = stack.enter_context(pikepdf.open(source.text_pdf))
            page.add_overlay(text_layer.pages[0])
        make_pdfa(pdf, info)
        pdf.save(out, fix_metadata_version=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out
