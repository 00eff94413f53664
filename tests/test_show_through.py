"""Show-through (the reverse side's print seen through thin paper) is whitened for a second reading of a page
that read poorly, and the better reading is kept; pieces of letters that lost ink stay with their letters."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from pipeline.pagework import PageTask, _best_reading, process_page
from pipeline.options import CONFIGS_DIR
from pipeline.profiles import CleanProfile, NormalizeIlluminationSettings, QualitySettings, load_profile
from pipeline.stages.cleanup import CleanedPage
from pipeline.stages.cleanup.photometric import normalize_illumination, whiten_show_through
from pipeline.stages.cleanup.work import Work
from pipeline.stages.ocr import read_whole_page
from pipeline.stages.show_through import without_show_through

from .conftest import DATA, NEEDS_CORPUS, SHARED_CORPUS

PAGES = DATA / "pages"
# DIBCO 2011 PR1: four lines of 17th-century Fraktur with the reverse side's print showing through. It has no
# stated licence, so it is read from the corpus beside the clone, not copied into the repository.
DIBCO_PR1 = SHARED_CORPUS / "edge" / "dibco11" / "DIBCO11_PR1.png"


def _grey(path: Path) -> np.ndarray:
    return np.array(Image.open(path).convert("L"))


def _seen_through(recto: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`recto` with another real page, mirrored, showing through it in faint grey; and where only that shows."""
    verso = cv2.resize(_grey(PAGES / "EHRI-DR-19390519-US_04.jpg")[:, ::-1], recto.shape[::-1])
    page = np.minimum(recto, (255 - (255 - verso.astype(np.float32)) * 0.3).astype(np.uint8))
    verso_only = (verso < 100) & (cv2.erode(recto, np.ones((5, 5), np.uint8)) > 200)
    return page, verso_only


def _flat(page: np.ndarray) -> np.ndarray:
    return normalize_illumination(Work(access=page, ocr=page, dpi_scale=1.0), NormalizeIlluminationSettings()).ocr


def test_pieces_of_letters_that_lost_ink_stay_when_show_through_is_whitened():
    recto = _grey(PAGES / "EHRI-DR-19390519-US_03.jpg")
    # Ink loss: in every other band of 8 rows the letters fade to a grey without a dark core, and a white row
    # parts each band from the one above, so the faded pieces are marks of their own.
    rows = np.arange(recto.shape[0])[:, None]
    ink = recto < 100
    gap, faded = ink & (rows % 8 == 0), ink & (rows % 8 != 0) & ((rows // 8) % 2 == 1)
    broken = recto.copy()
    broken[faded], broken[gap] = 170, 255
    page, verso_only = _seen_through(broken)
    flat = _flat(page)
    assert np.mean(flat[faded] < 215) > 0.95 and np.mean(flat[verso_only] < 215) > 0.9  # both visible before

    cleaned = whiten_show_through(flat, 0.15, reach=3)
    assert np.mean(cleaned[verso_only] == 255) > 0.5  # the reverse side goes (but where it touches letters)
    assert np.mean(cleaned[faded] == flat[faded]) > 0.95  # the faded pieces stay, next to their letters' ink
    # Judged mark by mark alone, without the reach, the faded pieces would go with the show-through.
    assert np.mean(whiten_show_through(flat, 0.15, reach=0)[faded] == 255) > 0.5


def test_show_through_is_found_only_where_the_reverse_side_shows():
    page, _ = _seen_through(_grey(PAGES / "EHRI-DR-19390519-US_03.jpg"))
    profile = CleanProfile(name="t")
    assert without_show_through(_flat(page), profile, 25) is not None
    assert without_show_through(_flat(_grey(PAGES / "EHRI-DR-19390519-US_03.jpg")), profile, 25) is None


def test_only_a_page_that_read_poorly_is_read_again_without_its_show_through(tmp_path):
    page, _ = _seen_through(_grey(PAGES / "EHRI-DR-19390519-US_03.jpg"))
    flat = _flat(page)
    cleaned = CleanedPage(access=page, ocr=flat, skew_angle=0.0, crop_box=None, steps=("grey",), text_height=25)
    image = tmp_path / "page.png"
    Image.fromarray(flat).save(image)
    readings = []

    def read(languages: str, out_base: Path, pixels: np.ndarray | None = None):
        readings.append(pixels is not None)
        return read_whole_page(image, flat if pixels is None else pixels, out_base, languages, 1, 300, 600, None)

    def best_reading(check_below: float | None, name: str):
        readings.clear()
        profile = CleanProfile(name="t", quality=QualitySettings(show_through_check_below=check_below))
        return _best_reading(read, "eng", tmp_path / name, profile, cleaned, tmp_path / f"debug-{name}")

    _, _, quality, _ = best_reading(0.8, "default")
    assert quality >= 0.8 and readings == [False]  # it read well despite the reverse side: one reading
    assert not (tmp_path / "debug-default").exists()
    best_reading(1.0, "strict")  # the same reading now counts as poor: a second one without the show-through
    assert readings == [False, True]
    # --debug-dir shows what the second reading read, numbered after the cleanup's one image ("grey").
    whitened = np.array(Image.open(tmp_path / "debug-strict" / "02_without_show_through.png"))
    assert whitened.shape == flat.shape and np.count_nonzero(whitened != flat) > 1000
    best_reading(None, "off")
    assert readings == [False]


def _read(image: Path, work_dir: Path, profile: CleanProfile):
    task = PageTask(source=image, format="png", index=0, number=1, work_dir=work_dir, languages="deu",
                    profile=profile, max_pixels=10**9, default_dpi=300, jpeg_quality=90, tesseract_timeout=600)
    return process_page(task)


@pytest.mark.skipif(not DIBCO_PR1.is_file(), reason=NEEDS_CORPUS)
def test_a_poor_page_with_show_through_is_read_again_without_it(tmp_path):
    default = load_profile("default", CONFIGS_DIR)  # the grey page goes to Tesseract, show-through and all
    page = _read(DIBCO_PR1, tmp_path / "on", default)
    assert "read_without_show_through" in page.steps
    off = _read(DIBCO_PR1, tmp_path / "off",
                default.model_copy(update={"quality": QualitySettings(show_through_check_below=None)}))
    assert "read_without_show_through" not in off.steps and page.quality > off.quality
    words = ("blind", "Kinde", "Liebes", "Gottheit")
    # Read with the show-through: only "Gottheit" of them (CER 0.42 against a transcription of the four lines);
    # without it: all four (CER 0.16; raw Tesseract 0.50).
    assert all(word in page.text.text for word in words)
    assert sum(word in off.text.text for word in words) <= 1
