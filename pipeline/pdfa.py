"""PDF/A-2b structure: what we add to a PDF to make it one, and a checker for what the standard requires.

Written with pikepdf rather than by converting through Ghostscript (as OCRmyPDF does) because our pages are
already clean images plus Tesseract's text layer: Ghostscript would re-encode every image for nothing.
veraPDF is not available here, so `check_pdfa` checks the structural rules we can: XMP identification,
output intent, embedded fonts, no encryption, trailer ID, no forbidden filters or actions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pikepdf
from PIL import ImageCms

from . import __version__

SRGB_IDENTIFIER = "sRGB IEC61966-2.1"


@dataclass(frozen=True)
class PdfInfo:
    title: str
    language: str = ""  # BCP 47 / ISO 639 code of the main language, if known
    subject: str = ""
    keywords: str = ""
    producer: str = ""  # the program that wrote the file last; retrodig and pikepdf when not given


@functools.cache
def srgb_icc_profile() -> bytes:
    """An sRGB ICC profile made by LittleCMS (through Pillow): no profile file to ship or find."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def make_pdfa(pdf: pikepdf.Pdf, info: PdfInfo, created: datetime | None = None) -> None:
    """Add the PDF/A-2b identification, metadata and output intent to `pdf`, in place."""
    created = created or datetime.now(timezone.utc)
    _add_output_intent(pdf)
    for key in list(pdf.docinfo.keys()):
        del pdf.docinfo[key]  # rewritten from the XMP below so the two always agree
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=True) as meta:
        meta["pdfaid:part"] = "2"
        meta["pdfaid:conformance"] = "B"
        meta["dc:title"] = info.title or "Untitled scan"
        if info.subject:
            meta["dc:description"] = info.subject
        if info.keywords:
            meta["pdf:Keywords"] = info.keywords
        meta["xmp:CreatorTool"] = f"retrodig {__version__}"
        meta["pdf:Producer"] = info.producer or f"retrodig {__version__} with pikepdf {pikepdf.__version__}"
        stamp = created.isoformat(timespec="seconds")
        meta["xmp:CreateDate"] = stamp
        meta["xmp:ModifyDate"] = stamp
        meta["xmp:MetadataDate"] = stamp
    if info.language:
        pdf.Root.Lang = pikepdf.String(info.language)


def _add_output_intent(pdf: pikepdf.Pdf) -> None:
    icc = pikepdf.Stream(pdf, srgb_icc_profile())
    icc.N = 3
    intent = pikepdf.Dictionary(
        Type=pikepdf.Name.OutputIntent,
        S=pikepdf.Name.GTS_PDFA1,
        OutputConditionIdentifier=pikepdf.String(SRGB_IDENTIFIER),
        Info=pikepdf.String(SRGB_IDENTIFIER),
        DestOutputProfile=icc,
    )
    pdf.Root.OutputIntents = pikepdf.Array([pdf.make_indirect(intent)])


def check_pdfa(path: Path) -> list[str]:
    """Problems that break PDF/A-2b structure; an empty list means none were found."""
    problems: list[str] = []
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError:
        return ["encrypted (PDF/A forbids encryption)"]
    with pdf:
        if pdf.is_encrypted:
            problems.append("encrypted (PDF/A forbids encryption)")
        problems += _check_identification(pdf)
        problems += _check_output_intent(pdf)
        if "/ID" not in pdf.trailer:
            problems.append("trailer has no /ID")
        for name in ("/JavaScript", "/AA"):
            if name in pdf.Root or ("/Names" in pdf.Root and name in pdf.Root.Names):
                problems.append(f"catalog has forbidden {name}")
        for number, page in enumerate(pdf.pages, start=1):
            problems += [f"page {number}: {p}" for p in _check_resources(page.obj.get("/Resources"), set())]
    return problems


def _check_identification(pdf: pikepdf.Pdf) -> list[str]:
    if "/Metadata" not in pdf.Root:
        return ["no XMP metadata stream"]
    if "/Filter" in pdf.Root.Metadata:
        return ["XMP metadata stream is compressed"]
    meta = pdf.open_metadata()
    problems = []
    if meta.get("pdfaid:part") != "2":
        problems.append(f"XMP pdfaid:part is {meta.get('pdfaid:part')!r}, not '2'")
    if (meta.get("pdfaid:conformance") or "").upper() != "B":
        problems.append(f"XMP pdfaid:conformance is {meta.get('pdfaid:conformance')!r}, not 'B'")
    # ISO 19005-2, 6.6.2.3.1: an entry of the document information dictionary that XMP also has must say the same.
    for entry, prop in (("/Title", "dc:title"), ("/Producer", "pdf:Producer"), ("/Creator", "xmp:CreatorTool"),
                        ("/Keywords", "pdf:Keywords")):
        if entry in pdf.docinfo and str(pdf.docinfo[entry]) != str(meta.get(prop, "")):
            problems.append(f"document info {entry} {str(pdf.docinfo[entry])!r} is not XMP {prop} "
                            f"{meta.get(prop)!r}")
    return problems


def _check_output_intent(pdf: pikepdf.Pdf) -> list[str]:
    intents = pdf.Root.get("/OutputIntents")
    if not intents:
        return ["no OutputIntents"]
    for intent in intents:
        if intent.get("/S") == pikepdf.Name.GTS_PDFA1 and "/DestOutputProfile" in intent:
            return []
    return ["no GTS_PDFA1 output intent with an ICC profile"]


def _check_resources(resources, seen: set) -> list[str]:
    if resources is None:
        return []
    problems = []
    for font in (resources.get("/Font") or {}).values():
        problems += _check_font(font)
    for xobject in (resources.get("/XObject") or {}).values():
        key = xobject.objgen
        if key in seen:
            continue
        seen.add(key)
        filters = xobject.get("/Filter")
        names = [filters] if isinstance(filters, pikepdf.Name) else list(filters or [])
        if pikepdf.Name.LZWDecode in names:
            problems.append("LZW-compressed stream (forbidden)")
        if xobject.get("/Subtype") == pikepdf.Name.Form:
            problems += _check_resources(xobject.get("/Resources"), seen)
    return problems


def _check_font(font) -> list[str]:
    fonts = list(font.get("/DescendantFonts") or []) if font.get("/Subtype") == pikepdf.Name.Type0 else [font]
    problems = []
    for item in fonts:
        if item.get("/Subtype") == pikepdf.Name.Type3:
            continue  # Type 3 glyphs are content streams: nothing to embed
        descriptor = item.get("/FontDescriptor")
        if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            problems.append(f"font {item.get('/BaseFont')} is not embedded")
    return problems
