"""handwritten-mixed reads the print Tesseract's layout analysis skipped, from the places where writing was left
unread, and leaves the handwriting there unread (pipeline.stages.skipped_print)."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline._exec import tesseract
from pipeline.evaluation import character_error_rate
from pipeline.hocr import BBOX, line_elements, line_of, read_hocr, serialized, text_of
from pipeline.pdfa import PdfInfo, check_pdfa
from pipeline.stages.load import load_page
from pipeline.stages.ocr import SINGLE_BLOCK, OcrOutput, recognize
from pipeline.stages.render import RenderPage, render_pdfa
from pipeline.stages.skipped_print import read_skipped_print
from pipeline.stages.unread import writing_left_unread

from .conftest import DATA, NEEDS_CORPUS, SHARED_CORPUS

# A typescript tagged 72 dpi: read as it is, Tesseract's layout analysis skips a third of it (CER 0.38).
TYPED_PAGE = DATA / "pages" / "EHRI-NISKO-19391112_DE_02.jpg"
SIGNED_LETTER = DATA / "pages" / "EHRI-NISKO-19391112_DE_04.jpg"  # typed, with a dozen signatures below
AS_SURELY_AS_PRINT = 60  # handwritten-mixed's read_skipped_print
# A typed Romanian page rendered and aged, the reverse side showing through (no stated licence for the image:
# read from the corpus beside the clone). Tesseract's layout analysis skips its lines 21 and 22 in part.
SEEN_THROUGH = SHARED_CORPUS / "ocr" / "rendered" / "ron_dev_a.jpg"


def _places_reader(work: Path, dpi: int, lang: str = "deu"):
    """Reads pixels as pagework does for a page read as scanned, told the resolution `dpi`."""

    def read_places(pixels: np.ndarray, suffix: str, psm: int) -> OcrOutput:
        image = tesseract.write_image(pixels, work / f"page{suffix}_ocr")
        return recognize(image, work / f"page{suffix}", lang, 1, dpi, 600, psm=psm, told_dpi=dpi)
    return read_places


def _believed_dpi(page: Path) -> int:
    """The resolution retrodig believes a NISKO scan has (its 72 dpi tag cannot be right for its size)."""
    return load_page(page, "jpeg", 0, 10**9, 300).dpi


def _as_scanned(page: Path, work: Path) -> tuple[np.ndarray, OcrOutput]:
    """The page's pixels, and Tesseract's reading of the file as it is (its own dpi tag included)."""
    return np.array(Image.open(page).convert("L")), recognize(page, work / "page", "deu", 1, 72, 600)


def test_print_the_layout_analysis_skipped_joins_the_reading(tmp_path):
    pixels, reading = _as_scanned(TYPED_PAGE, tmp_path)
    truth = TYPED_PAGE.with_suffix(".gt.txt").read_text(encoding="utf-8")
    skipping = reading.page.text
    assert character_error_rate(skipping, truth) > 0.3
    places = writing_left_unread(pixels, reading.page.words)

    read_places = _places_reader(tmp_path, _believed_dpi(TYPED_PAGE))
    joined = read_skipped_print(reading, pixels, places, read_places, AS_SURELY_AS_PRINT)

    assert joined is not None
    # The skipped paragraphs (the last third of the page) are read: the page read as one block of text scores
    # 0.03. Where lines join among others is the last test's.
    assert character_error_rate(joined.page.text, truth) < 0.05
    # One reading, said the same way everywhere: the text is the hOCR's, every line and word id is unique
    # (corrections name lines by id), and Tesseract's text layer has the new words too.
    hocr = read_hocr(joined.hocr)
    assert joined.page.words == hocr.words and joined.lines == hocr.lines
    assert [line.text for line in hocr.lines if line.text] == [line for line in joined.page.text.splitlines() if line]
    assert not [i for i, n in Counter(line.id for line in hocr.lines).items() if n > 1]
    layer = subprocess.run(["pdftotext", "-raw", str(joined.text_pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split()
    new_words = [word for word in joined.page.text.split() if word not in skipping.split()]
    assert len(new_words) > 100
    assert sum(word in layer for word in new_words) >= 0.95 * len(new_words)
    # The page's PDF with the joined text layer is still PDF/A (the layer's font is embedded).
    access = tmp_path / "access.jpg"
    Image.fromarray(pixels).save(access, dpi=(72, 72))
    pdf = render_pdfa([RenderPage(access, joined.text_pdf)], tmp_path / "page.pdf", PdfInfo(title="page"))
    assert check_pdfa(pdf) == []
    # What is left unread is a speck of what was.
    assert _area(writing_left_unread(pixels, joined.page.words)) < _area(places) / 10


def _area(boxes) -> int:
    return sum((right - left) * (bottom - top) for left, top, right, bottom in boxes)


def test_signatures_in_the_places_stay_unread_and_the_reading_as_it_was(tmp_path):
    pixels, reading = _as_scanned(SIGNED_LETTER, tmp_path)
    places = writing_left_unread(pixels, reading.page.words)
    assert len(places) >= 3
    hocr_before = reading.hocr.read_bytes()

    read_places = _places_reader(tmp_path, _believed_dpi(SIGNED_LETTER))
    assert read_skipped_print(reading, pixels, places, read_places, AS_SURELY_AS_PRINT) is None
    assert reading.hocr.read_bytes() == hocr_before


def test_nothing_is_read_again_where_nothing_was_left_unread(tmp_path):
    pixels, reading = _as_scanned(SIGNED_LETTER, tmp_path)

    def never(pixels: np.ndarray, suffix: str, psm: int) -> OcrOutput:
        raise AssertionError("read although no place was left unread")

    assert read_skipped_print(reading, pixels, (), never, AS_SURELY_AS_PRINT) is None


def test_lines_and_pieces_of_lines_read_from_the_places_join_where_they_stand(tmp_path):
    """The page read whole as one block, then two of its lines and the first half of another taken out of the
    reading, as a layout analysis leaves them out: read from their places, they come back where they were."""
    pixels = np.array(Image.open(TYPED_PAGE).convert("L"))
    dpi = load_page(TYPED_PAGE, "jpeg", 0, 10**9, 300).dpi
    whole = recognize(TYPED_PAGE, tmp_path / "whole", "deu", 1, dpi, 600, psm=SINGLE_BLOCK, told_dpi=dpi)
    root = ET.parse(whole.hocr).getroot()
    parents = {child: parent for parent in root.iter() for child in parent}
    lines = list(line_elements(root))
    was = {k: line_of(lines[k]) for k in range(len(lines))}
    for line in lines[10:12]:
        parents[line].remove(line)
    halved = was[20]
    for word in [w for w in lines[20] if w.get("class") == "ocrx_word"][:len(halved.words) // 2]:
        lines[20].remove(word)
    left, top, right, bottom = halved.words[len(halved.words) // 2].bbox[0], *halved.bbox[1:]
    lines[20].set("title", BBOX.sub(f"bbox {left} {top} {right} {bottom}", lines[20].get("title")))
    whole.hocr.write_text(serialized(root), encoding="utf-8")
    reading = replace(whole, page=replace(whole.page, text=text_of(root))).reloaded()
    places = writing_left_unread(pixels, reading.page.words)

    read_places = _places_reader(tmp_path, _believed_dpi(TYPED_PAGE))
    joined = read_skipped_print(reading, pixels, places, read_places, AS_SURELY_AS_PRINT)

    assert joined is not None
    order = [line.id for line in joined.lines]
    for k in (10, 11):  # each whole line back between the lines around it, and read as before
        back = max(joined.lines, key=lambda line: _overlap(line.bbox, was[k].bbox))
        assert character_error_rate(back.text, was[k].text) < 0.1
        assert order.index(was[9].id) < order.index(back.id) < order.index(was[12].id)
    # The half line is whole again: its words in the line they belong to, in their order across.
    (line,) = [line for line in joined.lines if line.id == halved.id]
    assert character_error_rate(line.text, halved.text) < 0.1
    assert [word.bbox[0] for word in line.words] == sorted(word.bbox[0] for word in line.words)
    assert line.bbox[0] == line.words[0].bbox[0] < halved.words[len(halved.words) // 2].bbox[0]


def _overlap(a, b) -> int:
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def test_a_line_read_from_its_place_joins_its_own_column_not_the_next_one_beside_it(tmp_path):
    """A magazine page in four columns whose gutters are narrower than the gap between two pieces of one line:
    a line of the third column, left out of the reading, comes back in that column, and the line of the fourth
    column beside it keeps its words."""
    page = DATA / "pages" / "8071_093.3B.tif"
    whole = recognize(page, tmp_path / "whole", "eng", 1, 300, 600, told_dpi=300)
    root = ET.parse(whole.hocr).getroot()
    parents = {child: parent for parent in root.iter() for child in parent}
    lines = list(line_elements(root))
    was = [line_of(line) for line in lines]
    k = next(k for k, line in enumerate(was) if line.text.startswith("in his family counseling"))
    top, bottom = was[k].bbox[1], was[k].bbox[3]
    neighbour = min((line for line in was if top < (line.bbox[1] + line.bbox[3]) / 2 < bottom
                     and line.bbox[0] > was[k].bbox[2]), key=lambda line: line.bbox[0])  # the fourth column's
    parents[lines[k]].remove(lines[k])
    whole.hocr.write_text(serialized(root), encoding="utf-8")
    reading = replace(whole, page=replace(whole.page, text=text_of(root))).reloaded()
    pixels = np.array(Image.open(page).convert("L"))
    places = writing_left_unread(pixels, reading.page.words)

    joined = read_skipped_print(reading, pixels, places, _places_reader(tmp_path, 300, "eng"), AS_SURELY_AS_PRINT)

    assert joined is not None
    after = {line.id: line for line in joined.lines}
    assert after[neighbour.id].text == neighbour.text
    (back,) = [line for line in joined.lines if "family counseling" in line.text]
    assert character_error_rate(back.text, was[k].text) < 0.1
    order = list(after)
    assert order.index(was[k - 1].id) < order.index(back.id) < order.index(was[k + 1].id)


@pytest.mark.skipif(not SEEN_THROUGH.is_file(), reason=NEEDS_CORPUS)
@pytest.mark.parametrize("profile", ["default", "handwritten-mixed"])
def test_print_that_sparse_text_breaks_into_pieces_is_read_whole_from_its_rows(run_cli, profile):
    """Among the grain of the reverse side, sparse text reads "beneficiari" as "ben", "efici" and "ari" beside
    junk; the rows of the print it found, read again as one block, give the lines whole. Too little is left
    unread for the default profile's block reading of the whole page."""
    truth = SEEN_THROUGH.with_name("ron_dev_a.gt.txt").read_text(encoding="utf-8")
    result = run_cli("ocr", str(SEEN_THROUGH), "--lang", "ron", "--profile", profile, "--json")
    (page,) = json.loads(result.stdout)["pages"]
    assert "read_skipped_print" in page["cleanup"]
    assert "beneficiari în concordanță cu SCAP" in page["text"]
    assert character_error_rate(page["text"], truth) < 0.02  # 0.047 as Tesseract left it
