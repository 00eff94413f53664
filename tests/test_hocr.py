"""One reader of hOCR: a page's words and its lines agree, also after a step rewrote the file."""

from __future__ import annotations

from PIL import Image

from pipeline.hocr import NO_CONFIDENCE, read_hocr
from pipeline.stages.ocr import recognize
from pipeline.stages.text_turn import turn_reading

from .conftest import DATA

PAGE = DATA / "pages" / "phototest.tif"


def _words_by_line(reading) -> tuple:
    return tuple(word for line in reading.lines for word in line.words)


def test_a_reading_has_its_words_by_line_and_keeps_them_so_when_turned(tmp_path):
    reading = recognize(PAGE, tmp_path / "page", "eng", 1, 300, 600)
    assert (reading.page.width, reading.page.height) == Image.open(PAGE).size
    assert len(reading.lines) >= 5 and len({line.id for line in reading.lines}) == len(reading.lines)
    assert _words_by_line(reading) == reading.page.words  # Tesseract puts every word in a line
    assert "quick brown dog" in " ".join(line.text for line in reading.lines)

    turned = turn_reading(reading, 0.5)
    assert _words_by_line(turned) == turned.page.words == read_hocr(turned.hocr).words
    assert [w.text for w in turned.page.words] == [w.text for w in reading.page.words]
    assert [w.bbox for w in turned.page.words] != [w.bbox for w in reading.page.words]


def test_words_without_a_confidence_count_and_words_without_text_or_box_do_not(tmp_path):
    hocr = tmp_path / "page.hocr"
    hocr.write_text(
        "<html xmlns='http://www.w3.org/1999/xhtml'><body>"
        "<div class='ocr_page' title='image \"p.png\"; bbox 0 0 800 600; ppageno 0'>"
        "<span class='ocr_line' id='line_1_1' title='bbox 10 10 400 40'>"
        "<span class='ocrx_word' id='w1' title='bbox 10 10 100 40; x_wconf 91'>Primăria</span>"
        "<span class='ocrx_word' id='w2' title='bbox 110 10 200 40'>Cluj</span>"  # no x_wconf
        "<span class='ocrx_word' id='w3' title='bbox 210 10 220 40; x_wconf 5'> </span>"
        "<span class='ocrx_word' id='w4' title='x_wconf 50'>nowhere</span></span>"
        "<span class='ocr_line' title='bbox 0 0 1 1'><span class='ocrx_word' title='bbox 0 0 1 1'>x</span></span>"
        "</div></body></html>", encoding="utf-8")
    page = read_hocr(hocr)
    assert page.size == (800, 600)
    assert [(w.text, w.conf) for w in page.words] == [("Primăria", 91.0), ("Cluj", NO_CONFIDENCE), ("x", NO_CONFIDENCE)]
    assert [(line.id, line.bbox, line.text) for line in page.lines] == [("line_1_1", (10, 10, 400, 40),
                                                                         "Primăria Cluj")]
