"""Corrections made by archive staff, kept beside the OCR they correct, never over it.

    <archive>/corrections/<id>/pages/0001.hocr   the page's current hOCR: corrected lines keep their line box,
                                                 their new words the places of the letters they were read from
    <archive>/corrections/<id>/pages/0001.txt    the page's current text, made from that hOCR
    <archive>/corrections/<id>/metadata.json     corrected catalog fields (title, collection, type, years)

The document folder keeps what the pipeline wrote (the original OCR stays retrievable), and the corrections
live outside it, so a forced re-ingest of the same scans (same id) does not throw staff work away. Indexing
and hit boxes read the current version (`page_text_path`, `page_hocr_path`, `current_record`). Who changed
what, when, is the portal's audit log; this module only keeps the current state.
"""

from __future__ import annotations

import copy
import datetime
import difflib
import fcntl
import json
import os
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

from .archive import Archive
from .errors import UsageError
from .hocr import XHTML, Line, bbox, line_elements, line_of, serialized, text_of
from .language_codes import CEDILLA_TO_COMMA, ROMANIAN

EDITABLE_FIELDS = ("title", "collection", "doc_type", "years")
_LINE_ID = re.compile(r"^[A-Za-z0-9_]{1,40}$")
_DOC_TYPE = re.compile(r"^[a-z0-9_]{1,40}$")
# Unicode categories: control characters, lone surrogates, and the invisible format characters a text pasted from
# a word processor or a web page brings (a soft hyphen, zero-width spaces and joiners, a byte-order mark, the
# direction overrides that make a line read backwards in the audit log): Chełmi\u00adński was found by nothing.
_NOT_TEXT = {"Cc", "Cs", "Cf"}


class CorrectionConflictError(UsageError):
    """The line changed since the person editing it loaded it (someone else corrected it meanwhile)."""


class PageChangedError(CorrectionConflictError):
    """The page was corrected while it was being read again (which takes seconds): the new reading is not saved
    over the correction."""


# --- where the current version is ---------------------------------------------------------------

def corrections_dir(archive: Archive, doc_id: str) -> Path:
    return archive.root / "corrections" / doc_id


def page_hocr_path(archive: Archive, doc_id: str, number: int) -> Path:
    corrected = corrections_dir(archive, doc_id) / "pages" / f"{number:04d}.hocr"
    return corrected if corrected.is_file() else archive.page_hocr(doc_id, number)


def page_text_path(archive: Archive, doc_id: str, number: int) -> Path:
    corrected = corrections_dir(archive, doc_id) / "pages" / f"{number:04d}.txt"
    return corrected if corrected.is_file() else archive.document_dir(doc_id) / "pages" / f"{number:04d}.txt"


def original_text_path(archive: Archive, doc_id: str, number: int) -> Path:
    return archive.document_dir(doc_id) / "pages" / f"{number:04d}.txt"


def corrected_pages(archive: Archive, doc_id: str) -> list[int]:
    folder = corrections_dir(archive, doc_id) / "pages"
    return sorted(int(p.stem) for p in folder.glob("[0-9][0-9][0-9][0-9].txt")) if folder.is_dir() else []


def changed_since(archive: Archive, doc_id: str, since: float) -> bool:
    """Whether the document's record or a correction of it was written at `since` (a time.time()) or later
    (with a second to spare for file systems that keep coarse times)."""
    files = [archive.document_dir(doc_id) / "document.json"]
    folder = corrections_dir(archive, doc_id)
    if folder.is_dir():
        files += [path for path in folder.rglob("*") if path.is_file()]
    return any(path.stat().st_mtime >= since - 1.0 for path in files if path.exists())


def metadata_overrides(archive: Archive, doc_id: str) -> dict:
    path = corrections_dir(archive, doc_id) / "metadata.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def current_record(archive: Archive, record: dict) -> dict:
    """The catalog record as staff corrected it; `corrections` names what differs from the pipeline's."""
    overrides = metadata_overrides(archive, record["id"])
    current = copy.deepcopy(record)
    for field, value in overrides.items():
        if field == "collection":
            current["collection"] = value
        else:
            current.setdefault("metadata", {})[field] = value
    current["corrections"] = {"metadata": sorted(overrides), "pages": corrected_pages(archive, record["id"])}
    return current


def field_value(record: dict, field: str):
    return record.get("collection", "") if field == "collection" else record.get("metadata", {}).get(field)


# --- writing corrections --------------------------------------------------------------------------

def typed_line(text: str) -> str:
    """What a person typed, as one line: composed (NFC: a Mac or a pasted text may give ș as s and a comma below,
    which the search, the Romanian letters and the names redaction looks for did not recognise), each run of
    whitespace one space, and no control characters (a backspace pasted in with the text, which the hOCR, an XML
    file, cannot hold) nor invisible ones (`_NOT_TEXT`)."""
    kept = "".join(c for c in text
                   if c.isspace() or (unicodedata.category(c) not in _NOT_TEXT and c not in "\ufffe\uffff"))
    return " ".join(unicodedata.normalize("NFC", kept).split())


def correct_line(archive: Archive, doc_id: str, number: int, line_id: str, text: str,
                 expected: str | None = None) -> tuple[str, str]:
    """Replace the words of one line; returns (before, after). `expected`: the text the editor saw."""
    if not _LINE_ID.match(line_id):
        raise UsageError.said("'%(line)s' is not a line of page %(page)s", line=line_id, page=number)
    text = typed_line(text)
    page = next((p for p in archive.load_document(doc_id)["pages"] if p["number"] == number), {})
    with document_lock(archive, doc_id):
        source = _existing_hocr(archive, doc_id, number)
        tree = ET.parse(source)
        # ș and ț with the comma, as the OCR's, on a page read in Romanian (at ingest, or read again since: its
        # hOCR says so): a keyboard or a pasted text may give the cedilla (ş, ţ).
        if ROMANIAN in str(page.get("languages", "")).split("+") or any(
                element.get("lang") == ROMANIAN for element in tree.getroot().iter()):
            text = text.translate(CEDILLA_TO_COMMA)
        element = next((e for e in line_elements(tree.getroot()) if e.get("id") == line_id), None)
        if element is None:
            raise UsageError.said("page %(page)s of document %(document)s has no line '%(line)s'", page=number,
                                  document=doc_id, line=line_id)
        before = line_of(element).text
        if expected is not None and typed_line(expected) != typed_line(before):
            raise CorrectionConflictError(f"line {line_id} was changed by someone else meanwhile; reload the page")
        if before != text:
            width = next((bbox(e)[2] for e in tree.getroot().iter() if e.get("class") == "ocr_page"), 0)
            _replace_words(element, line_of(element), text.split(), width)
            _save_page(archive, doc_id, number, tree)
    return before, text


def save_page_version(archive: Archive, doc_id: str, number: int, hocr: Path,
                      read_from: str | None = None) -> tuple[str, str]:
    """A new reading of a whole page (re-OCR) becomes its current version; returns (before, after) text.
    `read_from`: the page's text when the reading began; a page changed since is not overwritten."""
    with document_lock(archive, doc_id):
        before = page_text_path(archive, doc_id, number).read_text(encoding="utf-8").strip()
        if read_from is not None and before != read_from.strip():
            raise PageChangedError(f"page {number} of document {doc_id} was corrected while it was read again; "
                                   "the new reading was not saved")
        tree = ET.parse(hocr)
        _save_page(archive, doc_id, number, tree)
    return before, page_text_path(archive, doc_id, number).read_text(encoding="utf-8").strip()


def correct_metadata(archive: Archive, record: dict, field: str, value: str,
                     doc_types: Collection[str] | None = None) -> tuple[object, object]:
    """Set one catalog field; returns (before, after). Years are given as text: '1974, 1975'. `doc_types`: the
    document types a type may be set to (configs/doctypes.yaml's, and "unknown"); None: any well-formed name."""
    if field not in EDITABLE_FIELDS:
        raise UsageError.said("'%(field)s' cannot be corrected (fields: %(fields)s)", field=field,
                              fields=", ".join(EDITABLE_FIELDS))
    after = _parsed_field(field, value)
    if field == "doc_type" and doc_types is not None and after not in doc_types:
        # A type misspelt (buildng_permit) became a facet of its own, and the filters and embargo rules that name
        # the type passed the record over.
        raise UsageError.said("'%(value)s' is not a document type of this archive (types: %(types)s)", value=after,
                              types=", ".join(sorted(doc_types)))
    if isinstance(after, str) and ROMANIAN in record.get("metadata", {}).get("languages", []):
        after = after.translate(CEDILLA_TO_COMMA)  # a title or collection of a Romanian record, as its text
    doc_id = record["id"]
    with document_lock(archive, doc_id):
        overrides = metadata_overrides(archive, doc_id)
        before = field_value(current_record(archive, record), field)
        original = field_value(record, field)
        if after == original:
            overrides.pop(field, None)  # back to what the pipeline found: no correction left
        else:
            overrides[field] = after
        path = corrections_dir(archive, doc_id) / "metadata.json"
        _write_atomically(path, json.dumps(overrides, ensure_ascii=False, indent=2))
    return before, after


def _parsed_field(field: str, value: str):
    value = typed_line(value)
    if field == "years":
        years = sorted({int(y) for y in re.findall(r"\d+", value)})
        if re.search(r"[^\d,;\s]", value) or any(len(str(y)) != 4 for y in years):
            raise UsageError.said("years must be four-digit years separated by commas, not '%(value)s'", value=value)
        last = datetime.date.today().year  # a record of a year to come is a typing error (2050 for 1950): its
        if any(y < 1000 or y > last for y in years):  # embargo ran to 2150, and the year facet showed it
            raise UsageError.said("years must lie between 1000 and %(last)s, not '%(value)s'", last=last, value=value)
        return years
    if field == "doc_type" and not _DOC_TYPE.match(value):
        raise UsageError.said("a document type is a short name like building_permit, not '%(value)s'", value=value)
    if len(value) > 500:
        raise UsageError.said("The value is too long (at most 500 characters).")
    return value


def _replace_words(element: ET.Element, line: Line, tokens: list[str], page_width: int = 0) -> None:
    """Replace the line's words by `tokens`, each boxed where its letters were read (see `_aligned_boxes`), so a
    search hit on a corrected word is drawn where it is printed and a redaction box covers it; within the page
    (`page_width`, when the hOCR gives it: a box past its edge could not be saved in the portal's form)."""
    for span in [s for s in element if s.get("class") == "ocrx_word"]:
        element.remove(span)
    element.text = "\n" if tokens else ""
    if any(word.text for word in line.words):
        boxes = _aligned_boxes(line, tokens, page_width)
    else:
        boxes = _shared_boxes(line.bbox, tokens)
    for k, (token, box) in enumerate(zip(tokens, boxes), 1):
        span = ET.SubElement(element, f"{{{XHTML}}}span", {
            "class": "ocrx_word", "id": f"{line.id}_c{k}", "title": f"bbox {' '.join(map(str, box))}; x_wconf 100",
        })
        span.text = token
        span.tail = "\n"


def _aligned_boxes(line: Line, tokens: list[str], page_width: int = 0) -> list[tuple[int, int, int, int]]:
    """Each token's box, from the letters of the line as read that it keeps: every read letter has its share of
    its word's box, the corrected text's letters are matched to them (difflib), and a token spans its letters'
    shares; letters typed in place of others share those others' place. A word split (`Popescu,` into
    `Popescu` and `,`), joined, or rid of a misread stroke beside it keeps where it is printed: when the line's
    width was shared out by letter counts instead, a clerk's correction moved the boxes, and a copy's redaction
    left the ends of a personal number and of names showing. Written by hand: hOCR has no letter boxes here
    (Tesseract's are not kept), so the letters' places are estimated inside each word."""
    spans = [(left + (right - left) * i / len(word.text), left + (right - left) * (i + 1) / len(word.text), word)
             for word in line.words if word.text for left, _, right, _ in [word.bbox] for i in range(len(word.text))]
    read = "".join(word.text for word in line.words)
    typed = "".join(tokens)
    letter = sum(end - start for start, end, _ in spans) / len(spans)
    places: list[tuple[float, float, list]] = [(0.0, 0.0, [])] * len(typed)
    matcher = difflib.SequenceMatcher(None, read, typed, autojunk=False)
    for kind, i1, i2, j1, j2 in matcher.get_opcodes():
        if kind == "delete":
            continue
        if i2 - i1 == j2 - j1:  # the same letters, or as many typed in their place: each takes its own's
            for i, j in zip(range(i1, i2), range(j1, j2)):
                places[j] = (spans[i][0], spans[i][1], [spans[i][2]])
            continue
        if i1 < i2:  # the letters read there, shared out among the letters typed in their place
            start, end, words = spans[i1][0], spans[i2 - 1][1], [span[2] for span in spans[i1:i2]]
        else:  # typed where nothing was read: the gap between the letters on either side, widened to the
            # line's letter width (a word added before the first one read had a box of no width, and a copy
            # could not be made: "redaction box ... is empty")
            start, end = _gap(spans, i1, (j2 - j1) * letter, page_width)
            words = [spans[min(i1, len(spans) - 1)][2]]
        step = (end - start) / (j2 - j1)
        for j in range(j1, j2):
            places[j] = (start + step * (j - j1), start + step * (j - j1 + 1), words)
    boxes, cursor = [], 0
    for token in tokens:
        own = places[cursor:cursor + len(token)]
        cursor += len(token)
        words = [word for _, _, touched in own for word in touched] or list(line.words)
        left = max(0, int(min(p[0] for p in own)))
        boxes.append((left, min(w.bbox[1] for w in words), max(left + 1, -int(-max(p[1] for p in own))),
                      max(w.bbox[3] for w in words)))
    return boxes


def _gap(spans: list, at: int, width: float, page_width: int = 0) -> tuple[float, float]:
    """Where `width` of letters typed before read letter `at` go: a space before the line's first letter read or
    after its last (at most to the page's edges, `page_width` when known: a box past it could not be saved in
    the portal's form), or centred on the gap between two (over their edges where it is narrower)."""
    space = width / 4 if width else 0.0
    if at == 0:
        end = max(spans[0][0] - space, min(width, spans[0][0]))
        return max(0.0, end - width), end
    if at == len(spans):
        edge = page_width or float("inf")
        start = min(spans[-1][1] + space, max(spans[-1][1], edge - width))
        return (start, min(edge, start + width)) if edge > start else (edge - 1, edge)
    start, end = spans[at - 1][1], spans[at][0]
    if end - start >= width:
        return start, end
    middle = (start + end) / 2
    return middle - width / 2, middle + width / 2


def _shared_boxes(line_box: tuple[int, int, int, int], tokens: list[str]) -> list[tuple[int, int, int, int]]:
    """The line's width shared out by the tokens' lengths: for a line that had no words read."""
    left, top, right, bottom = line_box
    units = sum(len(t) for t in tokens) + max(len(tokens) - 1, 0)
    per_unit = (right - left) / units if units else 0
    boxes, cursor = [], float(left)
    for token in tokens:
        end = cursor + len(token) * per_unit
        boxes.append((round(cursor), top, round(end), bottom))
        cursor = end + per_unit
    return boxes


def _existing_hocr(archive: Archive, doc_id: str, number: int) -> Path:
    path = page_hocr_path(archive, doc_id, number)
    if not path.is_file():
        raise UsageError.said("document %(document)s has no page %(page)s", document=doc_id, page=number)
    return path


def _save_page(archive: Archive, doc_id: str, number: int, tree: ET.ElementTree) -> None:
    pages = corrections_dir(archive, doc_id) / "pages"
    _write_atomically(pages / f"{number:04d}.hocr", serialized(tree.getroot()))
    _write_atomically(pages / f"{number:04d}.txt", text_of(tree.getroot()) + "\n")


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.part")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


@contextmanager
def document_lock(archive: Archive, doc_id: str) -> Iterator[None]:
    """One correction of a document at a time (two clerks saving at once must not lose either change)."""
    folder = corrections_dir(archive, doc_id)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
