"""Sheets photographed askew: warped to their rectangle, and nothing else is (stages.cleanup.perspective)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from pipeline.api import read_file
from pipeline.evaluation import character_error_rate
from pipeline.options import Options
from pipeline.stages.cleanup import flatten_perspective
from pipeline.stages.cleanup.perspective import sheet_corners

from .conftest import DATA, NEEDS_CORPUS, SAMPLES, SHARED_CORPUS

PAGES = DATA / "pages"
TYPESCRIPT = PAGES / "EHRI-DR-19390519-US_04.jpg"  # 1494 x 2388, 300 dpi
DIBCO_PR1 = SHARED_CORPUS / "edge" / "dibco11" / "DIBCO11_PR1.png"  # four lines of faded print, 1657 x 540


def _table(height: int, width: int) -> np.ndarray:
    """A brown table top, darker away from the lamp (RGB)."""
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
    light = 0.8 + 0.3 * np.exp(-(((columns - width / 3) / width) ** 2 + ((rows - height / 4) / height) ** 2))
    brown = np.array([110, 72, 42], np.float32)
    return np.clip(light[..., None] * brown, 0, 255).astype(np.uint8)


def _photographed(page: np.ndarray, corners: list[tuple[int, int]], size: tuple[int, int]) -> np.ndarray:
    """`page` (grey) lying on a table, seen so that its corners fall on `corners` (top left, top right, bottom
    right, bottom left) of an RGB photo of `size` (width, height)."""
    height, width = page.shape
    source = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    matrix = cv2.getPerspectiveTransform(source, np.float32(corners))
    sheet = cv2.warpPerspective(cv2.cvtColor(page, cv2.COLOR_GRAY2RGB), matrix, size, flags=cv2.INTER_AREA)
    inside = cv2.warpPerspective(np.full(page.shape, 255, np.uint8), matrix, size, flags=cv2.INTER_AREA)
    share = inside[..., None].astype(np.float32) / 255
    return (share * sheet + (1 - share) * _table(size[1], size[0])).round().astype(np.uint8)


def _without_perspective(folder: Path) -> Path:
    """A profile that leaves photographed sheets as they are."""
    profile = folder / "as-photographed.yaml"
    profile.write_text("name: as-photographed\nperspective:\n  enabled: false\n")
    return profile


def test_a_sheet_photographed_askew_is_flattened_and_read_as_the_page(tmp_path):
    """The phone, held over the table and turned, saw the typescript's top edge shorter than its bottom, its sides
    converging by 9 degrees and its top and bottom edges by 12: no one straightening angle makes its lines
    parallel. Read as photographed, a quarter of its letters came out wrong (bench/photographed.py)."""
    page = np.array(Image.open(TYPESCRIPT))
    photo = _photographed(page, [(318, 239), (1513, 418), (1719, 2686), (149, 2776)], (1868, 2985))
    path = tmp_path / "photo.jpg"
    Image.fromarray(photo).save(path, quality=90, dpi=(300, 300))
    flat = flatten_perspective(photo, 0.5)
    assert flat is not None and flat.ndim == 3
    # The sheet's shape comes back: as high as its longer side, as wide as its longer edge across.
    assert abs(flat.shape[0] / flat.shape[1] - 2543 / 1573) < 0.02
    truth = (PAGES / "EHRI-DR-19390519-US_04.gt.txt").read_text()
    flattened = read_file(path, Options(archive=tmp_path / "unused", jobs=1, languages="eng"))[0]
    assert flattened.steps[0] == "flatten_perspective"
    as_photographed = read_file(path, Options(archive=tmp_path / "unused", jobs=1, languages="eng",
                                              profile=str(_without_perspective(tmp_path))))[0]
    assert "flatten_perspective" not in as_photographed.steps
    assert character_error_rate(flattened.text.text, truth) < 0.08  # the page as scanned: 0.048; here 0.062
    assert character_error_rate(as_photographed.text.text, truth) > 0.15  # 0.239


def test_scans_and_photos_of_sheets_lying_straight_are_left_as_they_are():
    # A scan (paper to the image's edges), a scan on a dark bed, a spread, a rendered page, sideways ones.
    for image in sorted(PAGES.glob("*.jpg")) + sorted(PAGES.glob("*.tif")) + sorted(SAMPLES.rglob("*.jpg")):
        scan = np.array(Image.open(image).convert("RGB"))
        assert flatten_perspective(scan, 0.5) is None, image.name
    # A sheet lying on the table, photographed from straight above (only turned: the deskew's and crop's work).
    page = np.array(Image.open(TYPESCRIPT))
    photo = _photographed(page, [(300, 200), (1300, 230), (1230, 1830), (230, 1800)], (1600, 2000))
    assert sheet_corners(photo, 0.5) is None


def _cut_crooked(page: np.ndarray, margin: int = 0) -> np.ndarray:
    """`page` (RGB), `margin` px of its paper added above it, its top cut 3 degrees off, lying on a table."""
    paper = np.percentile(page.reshape(-1, 3), 90, axis=0).astype(np.uint8)
    page = np.concatenate([np.broadcast_to(paper, (margin, page.shape[1], 3)), page])
    height, width = page.shape[:2]
    cut = np.zeros((height, width), np.uint8)
    cv2.fillConvexPoly(cut, np.int32([[0, 0], [width, round(width * np.tan(np.radians(3)))], [width, height],
                                      [0, height]]), 255)
    canvas = _table(height + 400, width + 400)
    canvas[200:200 + height, 200:200 + width][cut > 0] = page[cut > 0]
    return canvas


def test_a_sheet_cut_crooked_is_not_taken_for_one_photographed_askew():
    """A sheet whose top was cut 3 degrees off, its text typed straight: its outline converges as a photo's would,
    but its lines do not, and a warp would bend them."""
    sheet = _cut_crooked(np.array(Image.open(TYPESCRIPT).convert("RGB")))
    assert sheet_corners(sheet, 0.5) is not None  # the outline alone would be flattened
    assert flatten_perspective(sheet, 0.5) is None


@pytest.mark.skipif(not DIBCO_PR1.is_file(), reason=NEEDS_CORPUS)
def test_a_strip_of_four_lines_cut_crooked_is_left_as_it_is():
    """Its upper third, cut off along a line 2 degrees askew, measured its lines 2 degrees askew: the letters the
    cut went through lined up along it, and the strip was bent by a warp. Marks the band's edges cut are left
    out of its measure."""
    strip = np.array(Image.open(DIBCO_PR1).convert("RGB"))
    sheet = _cut_crooked(strip, margin=round(strip.shape[1] * np.tan(np.radians(3))) + 10)
    assert sheet_corners(sheet, 0.5) is not None
    assert flatten_perspective(sheet, 0.5) is None
