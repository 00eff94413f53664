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
from pipeline.stages.cleanup.perspective import sheet_aspect, sheet_corners

from .conftest import DATA, NEEDS_CORPUS, SAMPLES, SHARED_CORPUS
from .photo_support import VIEWS, camera_corners, cut_crooked, photographed, table

PAGES = DATA / "pages"
TYPESCRIPT = PAGES / "EHRI-DR-19390519-US_04.jpg"  # 1494 x 2388, 300 dpi
DIBCO_PR1 = SHARED_CORPUS / "edge" / "dibco11" / "DIBCO11_PR1.png"  # four lines of faded print, 1657 x 540


def _without_perspective(folder: Path) -> Path:
    """A profile that leaves photographed sheets as they are."""
    profile = folder / "as-photographed.yaml"
    profile.write_text("name: as-photographed\nperspective:\n  enabled: false\n")
    return profile


def test_a_sheet_photographed_askew_is_flattened_to_its_shape_and_read_as_the_page(tmp_path):
    """The phone, held over the table and turned, saw the typescript's far edge shorter than its near one, and its
    top and bottom edges converging as its sides do: no one straightening angle makes its lines parallel. Read
    as photographed, a quarter of its letters came out wrong (bench/photographed.py)."""
    page = np.array(Image.open(TYPESCRIPT))
    photo = photographed(page, VIEWS["turned"])
    path = tmp_path / "photo.jpg"
    Image.fromarray(photo).save(path, quality=90, dpi=(300, 300))
    flat = flatten_perspective(photo, 0.5)
    assert flat is not None and flat.ndim == 3
    # The sheet's own shape comes back (width over height 0.626), not its edges' lengths in the photo.
    assert abs(flat.shape[1] / flat.shape[0] - 1494 / 2388) < 0.02
    truth = (PAGES / "EHRI-DR-19390519-US_04.gt.txt").read_text()
    flattened = read_file(path, Options(archive=tmp_path / "unused", jobs=1, languages="eng"))[0]
    assert flattened.steps[0] == "flatten_perspective"
    as_photographed = read_file(path, Options(archive=tmp_path / "unused", jobs=1, languages="eng",
                                              profile=str(_without_perspective(tmp_path))))[0]
    assert "flatten_perspective" not in as_photographed.steps
    flat_error = character_error_rate(flattened.text.text, truth)
    assert flat_error < 0.08 and character_error_rate(as_photographed.text.text, truth) > 2 * flat_error


def test_the_sheet_s_shape_is_the_camera_s_not_its_edges_lengths():
    """Seen from near its foot, a sheet's far half is foreshortened: sized by its edges' lengths, a page 1.6 times
    as high as wide came out 1.1 times (the letters squashed in the PDF). Turned 40-48 degrees in the picture, its
    corners were not told apart (one of them found twice) and it was never flattened."""
    for view in ({"pitch": -30.0, "yaw": 25.0, "roll": 45.0}, {"pitch": 20.0, "yaw": -30.0, "roll": -12.0}):
        corners = camera_corners(1494, 2388, (1868, 2985), **view)
        assert abs(sheet_aspect(corners, (2985, 1868)) - 1494 / 2388) < 0.01, view
    # Seen from straight in front of its foot, its top and bottom edges parallel: the camera's focal length cannot
    # be found, and a phone's is taken (this camera's differs from it by 10 %).
    corners = camera_corners(1494, 2388, (1868, 2985), pitch=-45.0, yaw=0.0, roll=0.0)
    assert abs(sheet_aspect(corners, (2985, 1868)) - 1494 / 2388) < 0.1
    turned = photographed(np.array(Image.open(TYPESCRIPT)), {"pitch": -25.0, "yaw": 20.0, "roll": 45.0})
    assert sheet_corners(turned, 0.5) is not None


def test_scans_and_photos_of_sheets_lying_straight_are_left_as_they_are():
    # A scan (paper to the image's edges), a scan on a dark bed, a spread, a rendered page, sideways ones.
    for image in sorted(PAGES.glob("*.jpg")) + sorted(PAGES.glob("*.tif")) + sorted(SAMPLES.rglob("*.jpg")):
        scan = np.array(Image.open(image).convert("RGB"))
        assert flatten_perspective(scan, 0.5) is None, image.name
    # A sheet lying on the table, photographed from straight above (only turned: the deskew's and crop's work).
    assert sheet_corners(photographed(np.array(Image.open(TYPESCRIPT)), {"pitch": 0.0, "yaw": 0.0, "roll": 4.0}),
                         0.5) is None


@pytest.mark.parametrize("side", ["top", "right"])
def test_a_sheet_cut_crooked_is_not_taken_for_one_photographed_askew(side):
    """A sheet one of whose edges was cut 3 degrees off, its text typed straight: its outline converges as a
    photo's would, but its lines and letters do not, and a warp would bend them. Cut on a side, its lines stay
    parallel either way: it was warped unchecked (the page 8 % wider at its foot than at its head)."""
    page = np.array(Image.open(TYPESCRIPT).convert("RGB"))
    sheet = cut_crooked(page) if side == "top" else np.ascontiguousarray(
        np.rot90(cut_crooked(np.ascontiguousarray(np.rot90(page, 1))), -1))
    assert sheet_corners(sheet, 0.5) is not None  # the outline alone would be flattened
    assert flatten_perspective(sheet, 0.5) is None


def test_two_sheets_side_by_side_are_left_as_they_are():
    """Only the larger was warped, the other cut from the page and its text."""
    page = np.array(Image.open(TYPESCRIPT).convert("RGB"))
    small = cv2.resize(page, None, fx=0.45, fy=0.45, interpolation=cv2.INTER_AREA)
    photo = table(1400, 1700)
    height, width = small.shape[:2]
    photo[150:150 + height, 80:80 + width] = small
    slanted = cv2.warpPerspective(small, cv2.getPerspectiveTransform(
        np.float32([[0, 0], [width, 0], [width, height], [0, height]]),
        np.float32([[40, 0], [width - 40, 30], [width, height], [0, height - 30]])), (width, height),
        borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    region = photo[150:150 + height, 900:900 + width]
    region[slanted.sum(axis=2) > 0] = slanted[slanted.sum(axis=2) > 0]
    assert flatten_perspective(photo, 0.5) is None


@pytest.mark.skipif(not DIBCO_PR1.is_file(), reason=NEEDS_CORPUS)
def test_a_strip_of_four_lines_cut_crooked_is_left_as_it_is():
    """Its upper third, cut off along a line 2 degrees askew, measured its lines 2 degrees askew: the letters the
    cut went through lined up along it, and the strip was bent by a warp. Marks the band's edges cut are left
    out of its measure."""
    strip = np.array(Image.open(DIBCO_PR1).convert("RGB"))
    sheet = cut_crooked(strip, margin=round(strip.shape[1] * np.tan(np.radians(3))) + 10)
    assert sheet_corners(sheet, 0.5) is not None
    assert flatten_perspective(sheet, 0.5) is None
