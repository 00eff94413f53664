"""Print Tesseract skipped, read from the places where writing was left unread.

Tesseract's page layout analysis sometimes leaves lines of print out of its reading: it takes them for a
picture or for noise (lines among show-through, on a curved book page, at a page's cut edge). When it leaves a
fifth of the page's letters unread, the default profile reads the whole page again as one block of text
(stages.unread); a line or two left out do not call for that. Nor can a profile for print mixed with handwriting
read its pages as one block: the handwriting it means to leave unread would call for it every time, and a block
reading turns handwriting into lines of guesses among the print.

The places with writing left unread (stages.unread.writing_left_unread) say where to look. Those places alone, on an
otherwise empty page of the same size and without the words read already, are read as sparse text (`--psm 11`). The
lines read as surely as print (the profile's `read_skipped_print`, a mean word confidence) are print that had been
skipped; the others (handwriting, signatures, the rest of stamps) stay unread, and their places stay flagged where
the profile flags them; a stamp's print read that surely joins as print. On the corpus (bench/unread_writing.py
--skipped-print, bench/RESULTS.md) the print found there read at 60-96, handwriting and stamps at 0-51. When a look
also read other lines, the print is read once more without them (at most three looks), so that the reading joined to
the page holds nothing but print: its hOCR and its PDF text layer are both Tesseract's, and say the same. The second
look reads the rows of the print lines, across the places they lie in, as one block of text (`--psm 6`): sparse text
finds where print is, but among the grain of show-through it can break a typed line into pieces and read some of
them as junk (rendered ron_dev_a: "beneficiari" as "ben", "efici", "ari"), where a block reading reads the line
whole. The third reads the words of the print lines alone. (A line too short to judge, a speck read as "r3", does
not hold the print back; it stays out of the text and hOCR, though the text layer has it.)

The lines found join the page's reading where they stand. A piece of a row beside a line read (the start of a
line whose end was read) joins that line, unless the two lie in blocks of the page that stand side by side (a
gutter between columns can be narrower than a gap within a line); any other line goes after the lowest line
above it in the same column, or before the highest below it. So the page's text keeps its reading order.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pikepdf

from ..hocr import BBOX, LINE_CLASSES, Line, bbox, serialized, text_of
from ..model import PixelBox
from .ocr import SINGLE_BLOCK, OcrOutput
from .quality import line_confidence

SPARSE_TEXT = 11  # Tesseract's --psm for "as much text as possible, in no particular order"
MAX_LOOKS = 3  # readings of the places: the first, its print's rows, and their print's words
PLACE_MARGIN = 0.004  # of the page's longer side: paper kept around a place (the ink's box is tight)
WORD_MARGIN = 0.001  # of the page's longer side: around a word's box (its accents, a stroke's grey rim)
SAME_ROW = 0.5  # share of the shorter line's height: lines overlapping this much down (and not across) share a row
ROW_GAP = 3  # line heights: a piece of a row this close beside a line read is the rest of that line
_NUMBERED_ID = re.compile(r"^([a-z]+)_(\d+)_(\d+)$")  # Tesseract's ids: line_1_12 is line 12 of page 1

ReadPlaces = Callable[[np.ndarray, str, int], OcrOutput]  # (pixels, name suffix, --psm) -> a reading of them


def read_skipped_print(reading: OcrOutput, ocr_image: np.ndarray, places: Sequence[PixelBox],
                       read_places: ReadPlaces, surely: float) -> OcrOutput | None:
    """`reading` of `ocr_image` joined by the print read in `places` (boxes in its pixels) with a mean word
    confidence of at least `surely`; None when they hold no such print. `read_places` reads pixels like
    `ocr_image` with a page segmentation mode. The reading's hOCR and text-layer files are rewritten in place."""
    read = [word.bbox for word in reading.page.words]
    boxes, margin, psm = list(places), PLACE_MARGIN, SPARSE_TEXT
    for look_number in range(1, MAX_LOOKS + 1):
        if not boxes:
            return None
        look = read_places(_alone(ocr_image, boxes, margin, read), f"-places{look_number}", psm)
        judged = [(line, confidence) for line in look.lines if (confidence := line_confidence(line)) is not None]
        printed = [line for line, confidence in judged if confidence >= surely]
        if printed and len(printed) == len(judged):
            return _joined(reading, look, printed)
        # Only the print, for the next look: whatever else it read stays unread.
        if look_number == 1:
            boxes, psm = _rows_of(printed, boxes), SINGLE_BLOCK
        else:
            boxes, margin = [word.bbox for line in printed for word in line.words], WORD_MARGIN
    return None


def _rows_of(lines: Sequence[Line], places: Sequence[PixelBox]) -> list[PixelBox]:
    """Each line's row across the places it lies in: the parts of those places level with it."""
    rows = set()
    for line in lines:
        left, top, right, bottom = line.bbox
        rows |= {(x0, max(y0, top), x1, min(y1, bottom)) for x0, y0, x1, y1 in places
                 if min(x1, right) > max(x0, left) and min(y1, bottom) > max(y0, top)}
    return sorted(rows)


def _alone(ocr_image: np.ndarray, boxes: Sequence[PixelBox], margin: float, read: Sequence[PixelBox]) -> np.ndarray:
    """`ocr_image` with everything outside `boxes` (widened by `margin`, a share of the page's longer side),
    and everything inside the boxes of words `read` already, made plain paper."""
    paper = int(np.median(ocr_image[::4, ::4]))  # a page is mostly paper
    alone = np.full_like(ocr_image, paper)
    height, width = ocr_image.shape[:2]
    grow = round(margin * max(height, width))
    for left, top, right, bottom in boxes:
        rows = slice(max(0, top - grow), min(height, bottom + grow))
        columns = slice(max(0, left - grow), min(width, right + grow))
        alone[rows, columns] = ocr_image[rows, columns]
    grow = round(WORD_MARGIN * max(height, width))
    for left, top, right, bottom in read:
        alone[max(0, top - grow):bottom + grow, max(0, left - grow):right + grow] = paper
    return alone


def _joined(reading: OcrOutput, more: OcrOutput, printed: Sequence[Line]) -> OcrOutput:
    """`reading` with the `printed` lines of `more` (a reading of the same page size) in its hOCR and text, and
    `more`'s text layer over its own."""
    page = ET.parse(reading.hocr).getroot()
    added = ET.parse(more.hocr).getroot()
    wanted = {line.id for line in printed}
    lines = [line for line in _lines(added) if line.get("id") in wanted]
    _renumber(added, _highest_numbers(page))
    blocks = _blocks(page)
    rows: list[ET.Element] = []  # the lines read, pieces of one row made one line (a sparse reading splits rows)
    for line in sorted(lines, key=lambda element: (bbox(element)[1], bbox(element)[0])):
        if row := next((row for row in rows if _one_row(blocks, bbox(row), bbox(line))), None):
            _add_words(row, line)
        else:
            rows.append(line)
    for line in rows:
        _join_line(page, line, added, blocks)
    reading.hocr.write_text(serialized(page), encoding="utf-8")
    _overlay_text_layer(reading.text_pdf, more.text_pdf)
    return replace(reading, page=replace(reading.page, text=text_of(page))).reloaded()


def _lines(root: ET.Element) -> list[ET.Element]:
    return [element for element in root.iter() if element.get("class") in LINE_CLASSES]


def _highest_numbers(root: ET.Element) -> dict[str, int]:
    highest: dict[str, int] = {}
    for element in root.iter():
        if found := _NUMBERED_ID.match(element.get("id", "")):
            highest[found.group(1)] = max(highest.get(found.group(1), 0), int(found.group(3)))
    return highest


def _renumber(root: ET.Element, after: dict[str, int]) -> None:
    """Number the ids of `root`'s elements on from the highest of each kind in the page they will join
    (line_1_3 becomes line_1_43 after 40 lines), so that every id stays unique and looks like Tesseract's."""
    for element in root.iter():
        if found := _NUMBERED_ID.match(element.get("id", "")):
            kind, page, number = found.groups()
            element.set("id", f"{kind}_{page}_{int(number) + after.get(kind, 0)}")


def _block_of(root: ET.Element, line: ET.Element) -> ET.Element:
    """A copy of the block (ocr_carea) that holds `line` in `root`, with no other line: what joins a page where
    no line of it stands in the same column. A copy of the line itself when it stands in no block."""
    block = next((e for e in root.iter() if e.get("class") == "ocr_carea" and any(x is line for x in e.iter())),
                 line)
    block = copy.deepcopy(block)
    for par in (e for e in block.iter() if e.get("class") == "ocr_par"):
        for other in [e for e in par if e.get("class") in LINE_CLASSES and e.get("id") != line.get("id")]:
            par.remove(other)
    return block


def _join_line(page: ET.Element, line: ET.Element, reading: ET.Element, blocks: Sequence[PixelBox]) -> None:
    """Put `line` of the page `reading` into `page` in reading order. A piece of a row beside a line read (its
    start or its end), and not across a gutter between the page's `blocks`, joins the one whose middle is nearest
    its own, word by word in their order across. Any other line goes after the lowest line above it in the same
    column, or else before the highest line below it; on a page with neither, its block goes last."""
    parents = {child: parent for parent in page.iter() for child in parent}
    box = bbox(line)
    lines = _lines(page)
    beside = [e for e in lines if _one_row(blocks, bbox(e), box)]
    if beside:
        _add_words(min(beside, key=lambda e: abs(bbox(e)[1] + bbox(e)[3] - box[1] - box[3])), line)
        return
    middle = (box[1] + box[3]) / 2
    column = [e for e in lines if min(box[2], bbox(e)[2]) > max(box[0], bbox(e)[0])]
    above = [e for e in column if (bbox(e)[1] + bbox(e)[3]) / 2 < middle]
    below = [e for e in column if (bbox(e)[1] + bbox(e)[3]) / 2 >= middle]
    line.tail = "\n"
    if above:
        anchor = above[-1]  # the last in reading order: in one column, the nearest above
        siblings = parents[anchor]
        siblings.insert(list(siblings).index(anchor) + 1, line)
    elif below:
        anchor = below[0]
        siblings = parents[anchor]
        siblings.insert(list(siblings).index(anchor), line)
    else:
        next(e for e in page.iter() if e.get("class") == "ocr_page").append(_block_of(reading, line))


def _blocks(page: ET.Element) -> list[PixelBox]:
    """The boxes of the page's blocks (ocr_carea), as Tesseract's layout analysis found them."""
    return [bbox(element) for element in page.iter() if element.get("class") == "ocr_carea"]


def _block_holding(blocks: Sequence[PixelBox], box: PixelBox) -> PixelBox | None:
    """The first of `blocks` that holds the middle of `box`; None when none does."""
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return next((block for block in blocks if block[0] <= x <= block[2] and block[1] <= y <= block[3]), None)


def _one_row(blocks: Sequence[PixelBox], a: PixelBox, b: PixelBox) -> bool:
    """Whether `a` and `b` are pieces of one line: beside each other, and not in two blocks of the page that stand
    side by side (columns: a gutter can be narrower than the gap `_beside` allows between the pieces of a line).
    Blocks one over the other do not part them: on a curved page a line's end can reach into the block above."""
    block_a, block_b = _block_holding(blocks, a), _block_holding(blocks, b)
    side_by_side = (block_a is not None and block_b is not None
                    and min(block_a[2], block_b[2]) <= max(block_a[0], block_b[0]))
    return _beside(a, b) and not side_by_side


def _beside(a: PixelBox, b: PixelBox) -> bool:
    """Whether boxes `a` and `b` stand on one row, one beside the other (not over each other) and close."""
    heights = sorted((a[3] - a[1], b[3] - b[1]))
    rows = min(a[3], b[3]) - max(a[1], b[1])
    across = min(a[2], b[2]) - max(a[0], b[0])  # > 0: they overlap across, and are on different rows
    return heights[0] > 0 and rows >= SAME_ROW * heights[0] and across <= SAME_ROW * heights[0] \
        and -across <= ROW_GAP * heights[1]


def _add_words(line: ET.Element, more: ET.Element) -> None:
    """The words of the line element `more` put into the line element `line` in their order across; the line's
    box grows to hold them."""
    own = [e for e in line if e.get("class") == "ocrx_word"]
    for word in own:
        line.remove(word)
    for word in sorted(own + [e for e in more if e.get("class") == "ocrx_word"], key=lambda e: bbox(e)[0]):
        word.tail = " "
        line.append(word)
    left, top, right, bottom = (min(bbox(line)[0], bbox(more)[0]), min(bbox(line)[1], bbox(more)[1]),
                                max(bbox(line)[2], bbox(more)[2]), max(bbox(line)[3], bbox(more)[3]))
    line.set("title", BBOX.sub(f"bbox {left} {top} {right} {bottom}", line.get("title", ""), count=1))


def _overlay_text_layer(text_pdf: Path, more_pdf: Path) -> None:
    """Lay the text layer `more_pdf` over `text_pdf` (both one page of the same size, as Tesseract writes them:
    invisible text in its glyphless font), in place."""
    with pikepdf.open(text_pdf, allow_overwriting_input=True) as pdf, pikepdf.open(more_pdf) as more:
        pdf.pages[0].add_overlay(more.pages[0])
        pdf.save(text_pdf)
