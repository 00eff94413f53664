"""Real Tesseract on real pages: the text retrodig reads is close to the ground-truth transcription."""

from pathlib import Path

import numpy as np
import pytest

from pipeline.api import ocr_file
from pipeline.evaluation import character_error_rate
from pipeline.options import Options

from .conftest import DATA, NEEDS_CORPUS, SHARED_CORPUS, _speckled

PAGES = DATA / "pages"


def _cer(image: Path, languages: str, tmp_path: Path) -> float:
    pages = ocr_file(image, Options(archive=tmp_path / "unused", languages=languages, jobs=1))
    truth = image.with_name(image.name.rsplit(".", 1)[0] + ".gt.txt").read_text(encoding="utf-8")
    return character_error_rate("\n".join(p.text for p in pages), truth)


@pytest.mark.parametrize(("name", "ceiling"), [
    ("phototest.tif", 0.02),  # clean rendered page
    ("EHRI-DR-19390519-US_04.jpg", 0.10),  # 1939 typewritten report, grey scan
])
def test_cer_of_real_pages_stays_low(name, ceiling, tmp_path):
    assert _cer(PAGES / name, "eng", tmp_path) <= ceiling


def test_cer_metric_counts_edits_per_truth_character():
    assert character_error_rate("Primăria  orașului\n", "Primăria orașului") == 0.0
    assert character_error_rate("Primaria", "Primăria") == pytest.approx(1 / 8)
    assert character_error_rate("", "abcd") == 1.0


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_CORPUS / "ocr" / "ehri").is_dir(), reason=NEEDS_CORPUS)
@pytest.mark.parametrize("name", ["EHRI-BF-19380111_DE_01.jpg", "EHRI-NISKO-19391112_DE_02.jpg",
                                  "EHRI-BF-19380802_EN_01.jpg", "EHRI-ET-WL16560044_07.jpg"])
def test_cer_on_development_corpus_pages(name, tmp_path):
    language = "deu" if "_DE_" in name else "eng"
    # GT leaves out letterheads and stamps, which OCR reads: a little slack above the typewritten text's CER.
    assert _cer(SHARED_CORPUS / "ocr" / "ehri" / name, language, tmp_path) <= 0.25


def test_clean_scan_is_read_exactly_as_tesseract_alone_reads_it(tmp_path):
    """A clean, upright, straight scan gains nothing from cleanup: Tesseract is given the file itself, so
    retrodig's reading is Tesseract's own, never worse (pipeline.pagework, the gentle path)."""
    import os
    import subprocess

    from PIL import Image

    from pipeline.api import read_file

    scan = Image.open(PAGES / "EHRI-DR-19390519-US_04.jpg").convert("L")
    straight = tmp_path / "report.png"  # the 1939 report straightened (it is scanned 0.38 degrees askew)
    scan.rotate(-0.38, resample=Image.Resampling.BICUBIC, fillcolor=255).save(straight, dpi=(300, 300))
    page = read_file(straight, Options(archive=tmp_path / "unused", languages=("eng",), jobs=1))[0]
    assert "read_as_scanned" in page.steps and page.skew_angle == 0.0
    alone = subprocess.run(["tesseract", str(straight), "-", "-l", "eng"], capture_output=True, text=True,
                           env={**os.environ, "OMP_THREAD_LIMIT": "1"}, check=True).stdout
    assert page.text.text.split() == alone.split()


@pytest.mark.parametrize("dpi_tag", [None, 300])
def test_small_bitonal_scan_keeps_its_letters_when_enlarged(dpi_tag, tmp_path):
    """A black-and-white page scanned small (letters ~7 px), with no dpi tag or a wrong but believable one
    (a document system shrank it and kept "300 dpi"), is taken for 300 dpi and enlarged 3.5x for Tesseract.
    The denoising median, set in px at 300 dpi, must follow the letters' size, not the dpi times the
    enlargement: an 11 px median made blobs of the letters (CER 0.42; raw Tesseract reads it at 0.18 untagged,
    0.83 so tagged)."""
    import cv2
    from PIL import Image

    grey = np.asarray(Image.open(PAGES / "EHRI-NISKO-19391112_DE_02.jpg").convert("L"))
    small = cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    _, black_and_white = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    scan = tmp_path / "NISKO_DE_02-bitonal.tif"
    tag = {"dpi": (dpi_tag, dpi_tag)} if dpi_tag else {}
    Image.fromarray(black_and_white).convert("1").save(scan, compression="group4", **tag)
    truth = (PAGES / "EHRI-NISKO-19391112_DE_02.gt.txt").read_text(encoding="utf-8")
    scan.with_name(scan.stem + ".gt.txt").write_text(truth, encoding="utf-8")
    assert _cer(scan, "deu", tmp_path) <= 0.15


@pytest.mark.parametrize(("scale", "share", "ceiling"), [
    (1.0, 0.03, 0.03),  # 15 px letters: a 3 px median (raw Tesseract: CER 0.10)
    (1.0, 0.10, 0.05),  # raw Tesseract reads nothing (0.93)
    (0.6, 0.03, 0.08),  # 9 px letters: only the specks are replaced (raw Tesseract: 0.52)
])
def test_speckled_scan_is_read_almost_like_the_clean_one(scale, share, ceiling, tmp_path):
    """Salt-and-pepper noise (dust on the scanner glass, a worn sensor) on a real page: the specks are removed
    before anything else, and the page reads close to its clean scan (CER 0.014)."""
    import cv2
    from PIL import Image

    grey = np.asarray(Image.open(PAGES / "EHRI-NISKO-19391112_DE_02.jpg").convert("L"))
    if scale != 1.0:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    scan = tmp_path / "NISKO_DE_02-speckled.png"
    Image.fromarray(_speckled(grey, share)).save(scan, dpi=(round(300 * scale),) * 2)
    truth = (PAGES / "EHRI-NISKO-19391112_DE_02.gt.txt").read_text(encoding="utf-8")
    scan.with_name(scan.stem + ".gt.txt").write_text(truth, encoding="utf-8")
    assert _cer(scan, "deu", tmp_path) <= ceiling


def test_blurred_page_is_read_from_its_grey_image(tmp_path):
    """A page photographed out of focus. Its strokes look crisp to the soft-strokes test (blur takes the dark
    core from thin strokes), and a threshold of our own lost what Tesseract's LSTM reads in the grey lines:
    CER 0.092, raw Tesseract 0.058. The default profile gives Tesseract the grey page (0.020)."""
    import cv2
    from PIL import Image

    grey = np.asarray(Image.open(PAGES / "EHRI-BF-19380810_EN_01.jpg").convert("L"))
    scan = tmp_path / "BF-19380810_EN_01-blurred.png"
    Image.fromarray(cv2.GaussianBlur(grey, (0, 0), 1.5)).save(scan)
    truth = (PAGES / "EHRI-BF-19380810_EN_01.gt.txt").read_text(encoding="utf-8")
    scan.with_name(scan.stem + ".gt.txt").write_text(truth, encoding="utf-8")
    assert _cer(scan, "eng", tmp_path) <= 0.04
