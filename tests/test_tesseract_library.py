"""Tesseract read through its library, loaded once per process: the same files as the `tesseract` program."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from pipeline._exec import tesseract_library
from pipeline._exec.tesseract import OUTPUTS, detect_orientation, detect_script, run_page, write_image
from pipeline._exec.tesseract_library import Engine, engine_for
from pipeline.errors import MissingDependencyError, OcrFailedError

from .conftest import DATA, REPO

PAGE = DATA / "pages" / "EHRI-DR-19390519-US_04.jpg"


def program_outputs(image: Path, out_base: Path, languages: str, dpi: int | None, psm: int | None) -> Path:
    cmd = ["tesseract", str(image), str(out_base), "-l", languages, *(["--dpi", str(dpi)] if dpi else []),
           *(["--psm", str(psm)] if psm else []), "-c", "textonly_pdf=1", *OUTPUTS]
    subprocess.run(cmd, capture_output=True, check=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    return out_base


@pytest.mark.parametrize("image", [PAGE, DATA / "pages" / "phototest.tif"], ids=["jpeg-typescript", "tiff"])
def test_one_engine_reads_page_after_page_as_the_program_does(tmp_path, image):
    """The same loaded engine reads with different settings in turn (layout analysis or one block, the image's
    own dpi or a given one): every reading is the program's, byte for byte, so no setting leaks to the next."""
    for number, (dpi, psm) in enumerate([(None, None), (150, 6), (None, None)]):
        ours = run_page(image, tmp_path / f"ours{number}", "eng", 600, dpi, psm)
        theirs = program_outputs(image, tmp_path / f"program{number}", "eng", dpi, psm)
        for kind in ("hocr", "txt"):
            assert ours[kind].read_bytes() == theirs.with_suffix(f".{kind}").read_bytes(), (number, kind)
        assert ours["pdf"].read_bytes().startswith(b"%PDF-")
        assert b"GlyphLessFont" in ours["pdf"].read_bytes()  # the invisible text layer, as `textonly_pdf=1`
    assert "the" in ours["txt"].read_text(encoding="utf-8").lower()


def test_the_image_written_for_tesseract_holds_the_pixels_and_no_dpi(tmp_path):
    """`write_image`: an uncompressed TIFF of exactly the pixels, recording no dpi, so the dpi Tesseract is told
    is the one it uses: it reads the same text as from a PNG of the same pixels."""
    pixels = cv2.imread(str(PAGE), cv2.IMREAD_GRAYSCALE)
    written = write_image(pixels, tmp_path / "page")
    assert written.name == "page.tif" and np.array_equal(cv2.imread(str(written), cv2.IMREAD_UNCHANGED), pixels)
    with Image.open(written) as image:
        assert image.info.get("compression") == "raw"
        assert not {282, 283} & set(image.tag_v2)  # no XResolution, YResolution
    png = tmp_path / "same.png"
    cv2.imwrite(str(png), pixels)
    ours, theirs = (run_page(path, tmp_path / path.stem, "eng", 600, dpi=200) for path in (written, png))
    assert ours["txt"].read_bytes() == theirs["txt"].read_bytes()


def program_osd(image: Path) -> dict[str, str]:
    """What `tesseract IMAGE - --psm 0` reports ("Orientation in degrees", "Script", ...), by name."""
    done = subprocess.run(["tesseract", str(image), "-", "--psm", "0"], capture_output=True, text=True,
                          env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    return dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)


def program_orientation(image: Path) -> tuple[int, float] | None:
    """The program's (degrees counter-clockwise to turn upright, confidence)."""
    values = program_osd(image)
    if "Orientation in degrees" not in values:
        return None
    return int(values["Orientation in degrees"]), float(values["Orientation confidence"])


@pytest.mark.parametrize("image", [PAGE, DATA / "pages" / "phototest.tif"], ids=["jpeg-typescript", "tiff"])
def test_orientation_is_detected_in_process_as_the_program_detects_it(tmp_path, image):
    """The page in all four quarter turns, binarized as the cleanup hands it over: the same turn and confidence
    as the program's `--psm 0`, each time from the same loaded engine."""
    grey = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
    _, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    found = {}
    for quarter in range(4):
        pixels = np.ascontiguousarray(np.rot90(binary, quarter))
        found[quarter] = ours = detect_orientation(pixels)
        theirs = program_orientation(write_image(pixels, tmp_path / f"turned{quarter}"))
        assert ours is not None and theirs is not None
        assert ours[0] == theirs[0] and ours[1] == pytest.approx(theirs[1], abs=0.01), quarter
    if image.suffix == ".tif":  # clear print: every turn is found, and with confidence
        assert {quarter: turn for quarter, (turn, _) in found.items()} == {0: 0, 1: 270, 2: 180, 3: 90}
        assert min(confidence for _, confidence in found.values()) > 5


def program_script(image: Path) -> tuple[str, float] | None:
    """The program's script and its confidence."""
    values = program_osd(image)
    if "Script" not in values:
        return None
    return values["Script"].strip(), float(values["Script confidence"])


@pytest.mark.parametrize("image", [PAGE, DATA / "pages" / "phototest.tif"], ids=["jpeg-typescript", "tiff"])
def test_script_is_detected_in_process_as_the_program_detects_it(tmp_path, image):
    grey = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
    _, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ours = detect_script(binary)
    theirs = program_script(write_image(binary, tmp_path / "page"))
    assert ours is not None and theirs is not None
    assert ours[0] == theirs[0] == "Latin" and ours[1] == pytest.approx(theirs[1], abs=0.01)


def test_a_page_without_text_has_no_orientation():
    assert detect_orientation(np.full((400, 300), 255, dtype=np.uint8)) is None


def test_the_engine_is_loaded_once_per_language_set_and_the_oldest_is_closed(monkeypatch):
    monkeypatch.setattr(tesseract_library, "ENGINES_PER_THREAD", 2)
    first = engine_for("eng")
    assert engine_for("eng") is first
    engine_for("deu")
    engine_for("eng")  # used again: now the most recent
    engine_for("ron")  # a third set: "deu", the least recently used, goes
    assert engine_for("eng") is first
    assert first._api is not None


def test_a_missing_or_unreadable_image_is_an_ocr_error_naming_the_file(tmp_path):
    missing = tmp_path / "gone.pgm"
    with pytest.raises(OcrFailedError) as caught:
        run_page(missing, tmp_path / "out", "eng", 600)
    assert caught.value.path == missing and "missing" in str(caught.value)
    broken = tmp_path / "broken.pgm"
    broken.write_bytes(b"P5\n4000 3000\n255\n" + b"\x80" * 100)  # a header promising far more than is there
    with pytest.raises(OcrFailedError) as caught:
        run_page(broken, tmp_path / "out", "eng", 600)
    assert caught.value.path == broken and "could not read" in str(caught.value)


def test_recognition_past_the_time_limit_is_an_ocr_error_and_the_engine_reads_on(tmp_path):
    with pytest.raises(OcrFailedError, match="took longer than"):
        engine_for("eng").process(PAGE, tmp_path / "out", ("txt",), timeout=0.0001)
    again = engine_for("eng").process(PAGE, tmp_path / "again", ("txt",), timeout=600)
    assert "the" in again["txt"].read_text(encoding="utf-8").lower()


def test_language_data_that_is_not_installed_is_a_missing_dependency():
    with pytest.raises(MissingDependencyError, match="xho"):
        Engine("xho")


def test_tesseract_in_process_runs_on_one_thread():
    """Tesseract's OpenMP threads would fight the page workers: the limit is set before the library loads it,
    whatever the caller's environment says."""
    code = ("from pipeline._exec.tesseract_library import engine_for; import ctypes; engine_for('eng'); "
            "print(ctypes.CDLL('libgomp.so.1').omp_get_thread_limit())")
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "1"


def test_the_library_is_found_by_soname_or_by_short_name_and_a_missing_one_is_named():
    assert tesseract_library._open("libnot-here.so.9", "tesseract")._name  # found by its short name
    with pytest.raises(OSError, match="libnot-here.so.9, not-here"):
        tesseract_library._open("libnot-here.so.9", "not-here")
