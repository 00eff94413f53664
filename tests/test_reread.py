"""A reading that left text out is noticed and the page read again as one block (pipeline.stages.unread)."""

from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.evaluation import character_error_rate
from pipeline.stages.ocr import read_whole_page
from pipeline.stages.unread import unread_share

from .conftest import DATA

PAGE = DATA / "pages" / "EHRI-NISKO-19391112_DE_02.jpg"


def _read(folder: Path, reread_if_unread: float | None):
    folder.mkdir()
    grey = np.asarray(Image.open(PAGE).convert("L"))
    # The file as it is (a photo tagged 72 dpi): Tesseract's layout analysis drops paragraphs of it.
    reading, reread = read_whole_page(PAGE, grey, folder / "page", "deu", 1, 72, 120, reread_if_unread,
                                      tell_dpi=False)
    truth = PAGE.with_name("EHRI-NISKO-19391112_DE_02.gt.txt").read_text(encoding="utf-8")
    return unread_share(grey, reading.page.words), reread, character_error_rate(reading.page.text, truth)


def test_text_left_unread_is_noticed_and_read_again(tmp_path):
    unread, reread, cer = _read(tmp_path / "once", None)
    assert not reread and unread > 0.2 and cer > 0.2  # paragraphs missing from the first reading

    unread, reread, cer = _read(tmp_path / "twice", 0.2)
    assert reread and unread < 0.05 and cer < 0.05


def test_a_blank_page_is_not_judged():
    page = np.full((1200, 900), 255, np.uint8)
    assert unread_share(page, []) is None  # a blank page: nothing to judge by
