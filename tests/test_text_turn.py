"""A clean page skewed a little is read as scanned, and its reading is turned onto the straightened page."""

from __future__ import annotations

import collections
import os
import re
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.pagework import PageTask, process_page
from pipeline.pdfa import PdfInfo
from pipeline.profiles import CleanProfile
from pipeline.stages.cleanup.geometry import estimate_skew, rotate
from pipeline.stages.ocr import recognize
from pipeline.stages.render import RenderPage, render_pdfa

from .conftest import DATA

PAGE = DATA / "pages" / "EHRI-DR-19390519-US_04.jpg"  # clean paper, scanned 0.38 degrees askew
DPI = 300


def _centres(words) -> dict[str, tuple[float, float]]:
    """Centre of each word that occurs once on the page (four letters or more), by its text."""
    words = list(words)
    counts = collections.Counter(text for text, _ in words)
    return {text: ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
            for text, box in words if counts[text] == 1 and len(text) >= 4}


def _pdf_words(text_pdf: Path) -> list[tuple[str, tuple[float, ...]]]:
    """Words of a PDF text layer with their boxes in page pixels, as poppler's `pdftotext -bbox` places them."""
    html = subprocess.run(["pdftotext", "-bbox", str(text_pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    return [(m.group(5), tuple(float(v) * DPI / 72 for v in m.groups()[:4])) for m in re.finditer(pattern, html)]


def _distances(ours: dict, theirs: dict) -> np.ndarray:
    common = sorted(set(ours) & set(theirs))
    assert len(common) >= 30
    return np.array([np.hypot(ours[k][0] - theirs[k][0], ours[k][1] - theirs[k][1]) for k in common])


def test_a_slightly_skewed_clean_page_is_read_as_scanned_and_its_reading_lies_on_the_straight_page(tmp_path):
    task = PageTask(source=PAGE, format="jpeg", index=0, number=1, work_dir=tmp_path, languages="eng",
                    profile=CleanProfile(name="t"), max_pixels=10**9, default_dpi=DPI, jpeg_quality=90,
                    tesseract_timeout=600)
    page = process_page(task)
    assert {"deskew", "read_as_scanned"} <= set(page.steps) and abs(page.skew_angle - 0.38) <= 0.1
    # The page people see: the PDF draws the scan straightened (stages.render), rendered here as poppler shows it.
    pdf = render_pdfa([RenderPage(page.access_image, page.text_pdf, page.placement)], tmp_path / "page.pdf",
                      PdfInfo(title="t"))
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-png", "-singlefile", str(pdf), str(tmp_path / "shown")],
                   check=True)
    assert abs(estimate_skew(np.array(Image.open(tmp_path / "shown.png").convert("L")), 5.0)) <= 0.3  # it is straight
    # The same page in pixels, as the cleanup straightens it (test_render: the PDF shows it so, to the pixel).
    straightened = tmp_path / "straightened.png"
    access = np.array(Image.open(page.access_image).convert("L"))
    Image.fromarray(rotate(access, -page.placement.angle, 255)).save(straightened, dpi=(DPI, DPI))

    # Read as scanned: exactly what Tesseract alone reads from the file.
    alone = subprocess.run(["tesseract", str(PAGE), "-", "-l", "eng"], capture_output=True, text=True,
                           env={**os.environ, "OMP_THREAD_LIMIT": "1"}, check=True).stdout
    assert page.text.text.split() == alone.split()

    # The word boxes lie on the straight page: Tesseract reading the straightened image itself puts each word
    # within a pixel of them (the boxes as read would be up to ~8 px off at the corners).
    straight = recognize(straightened, tmp_path / "straight", "eng", 1, DPI, 600)
    ours = _centres((w.text, w.bbox) for w in page.text.words)
    assert _distances(ours, _centres((w.text, w.bbox) for w in straight.page.words)).max() <= 2
    hocr_words = re.findall(r"bbox (\d+) (\d+) (\d+) (\d+); x_wconf \d+'>([^<]+)<", page.hocr.read_text())
    assert _centres((text, tuple(map(int, box))) for *box, text in hocr_words) == ours  # the hOCR file too

    # So does the PDF text layer (poppler places rotated words from their baseline: a pixel or two of slack;
    # the layer as Tesseract wrote it is 4 px off on average, turned the wrong way 8 px).
    layer = _distances(_centres(_pdf_words(page.text_pdf)), _centres(_pdf_words(straight.text_pdf)))
    assert layer.mean() <= 2.5
