"""Romanian ș and ț are written with the comma below in all a reading produces."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pikepdf

from pipeline.model import PageText
from pipeline.pagework import PageTask, process_page
from pipeline.profiles import CleanProfile
from pipeline.stages.ocr import OcrOutput
from pipeline.stages.orthography import romanian_letters

from .conftest import SAMPLES

CEDILLA_LETTERS = set("şŞţŢ")


def _text_layer(text_pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(text_pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_a_romanian_page_is_spelt_with_the_comma_letters_in_its_text_words_hocr_and_text_layer(tmp_path):
    # Tesseract alone reads this page with both: "aşezat" with the cedilla, "Someșului" with the comma.
    task = PageTask(source=SAMPLES / "Clujul.jpg", format="jpeg", index=0, number=1, work_dir=tmp_path,
                    languages="ron", profile=CleanProfile(name="t"), max_pixels=10**9, default_dpi=300,
                    jpeg_quality=90, tesseract_timeout=600)
    page = process_page(task)
    text = page.text.text
    assert "așezat" in text and "Someșului" in text
    assert not CEDILLA_LETTERS & set(text)
    assert not any(CEDILLA_LETTERS & set(word.text) for word in page.text.words)
    assert any(word.text.startswith("așezat") for word in page.text.words)
    hocr = page.hocr.read_text(encoding="utf-8")
    assert "așezat" in hocr and not CEDILLA_LETTERS & set(hocr)
    layer = _text_layer(page.text_pdf)  # what a reader copies out of the PDF
    assert "așezat" in layer and not CEDILLA_LETTERS & set(layer)


def test_only_romanian_readings_are_respelt(tmp_path):
    hocr, layer = tmp_path / "page.hocr", tmp_path / "page.pdf"
    hocr.write_text("<span class='ocrx_word'>Kaş</span>", encoding="utf-8")
    pdf = pikepdf.new()
    pdf.add_blank_page()
    # as Tesseract writes its text layer: a word as UTF-16 code units in a TJ array
    pdf.pages[0].Contents = pdf.make_stream(b"BT 3 Tr [ <004B0061015F> ] TJ ET")
    pdf.save(layer)
    reading = OcrOutput(hocr=hocr, text_pdf=layer, page=PageText(number=1, text="Kaş"))
    assert romanian_letters(reading, "hun") is reading and romanian_letters(reading, "eng+deu") is reading
    assert romanian_letters(reading, "hun+ron").page.text == "Kaș"
    assert "Kaș" in hocr.read_text(encoding="utf-8")
    with pikepdf.open(layer) as pdf:
        assert b"<004b00610219>" in pdf.pages[0].Contents.read_bytes().lower()
