"""The PDF shows each page as the cleanup found it: the scan straightened and cut to the sheet by the PDF's drawing,
the part of it the page shows embedded unresampled."""

import json
from pathlib import Path

import numpy as np
import pikepdf
from PIL import Image

from pipeline.copies.pages import page_geometries, render_page
from pipeline.errors import ExitCode
from pipeline.options import CONFIGS_DIR
from pipeline.pdfa import check_pdfa
from pipeline.profiles import load_profile
from pipeline.stages.cleanup import clean_page
from pipeline.stages.cleanup.geometry import estimate_skew, rotate
from pipeline.stages.cleanup.work import to_grey

from .conftest import DATA


def test_a_skewed_colour_page_on_a_bed_is_shown_straight_and_cut_with_the_scan_unresampled(run_cli, tmp_path):
    page = np.array(Image.open(DATA / "pages" / "EHRI-ET-JMP020_02.jpg").convert("RGB"))
    height, width = page.shape[:2]
    bed = np.full((height + 300, width + 800, 3), 30, dtype=np.uint8)
    bed[140:140 + height, 120:120 + width] = page  # on a dark scanner bed, with room for more on its right
    scan = rotate(bed, 2.0, (30, 30, 30))
    path = tmp_path / "skewed.png"
    Image.fromarray(scan).save(path, dpi=(300, 300))

    result = run_cli("ingest", str(path), "--lang", "deu", "--json")
    assert result.exit_code == ExitCode.ok, result.output
    pdf = Path(json.loads(result.stdout)["items"][0]["pdf"])
    cleaned = clean_page(scan, 300, load_profile("default", CONFIGS_DIR))  # what ingest made of the scan
    assert abs(cleaned.skew_angle - (2.0 + estimate_skew(to_grey(page), 5.0))) <= 0.3  # the page's own skew too
    assert cleaned.crop_box is not None
    assert check_pdfa(pdf) == []

    left, top, right, bottom = cleaned.crop_box
    with pikepdf.open(pdf) as document:
        (image,) = (x for x in document.pages[0].Resources.XObject.values() if x.Subtype == pikepdf.Name.Image)
        # The part of the scan the page shows, not turned: the bed beside the sheet is not in the PDF.
        assert right - left <= image.Width < scan.shape[1] - 400 and bottom - top <= image.Height
    (geometry,) = page_geometries(pdf)
    assert geometry.pixels == (right - left, bottom - top)  # the page is the sheet (test_cleanup: how it is cut)
    assert right - left < width + 100 and bottom - top < height + 100
    shown = np.asarray(render_page(pdf, 1, geometry).convert("RGB"))
    expected = cleaned.page_image()
    assert shown.shape == expected.shape

    def off_by(dy: int, dx: int) -> float:
        inner = shown[30 + dy:-30 + dy, 30 + dx:-30 + dx].astype(int)
        return float(np.abs(inner - expected[30:-30, 30:-30]).mean())

    # As the cleanup shows it in pixels, up to the access JPEG and poppler's resampling (2.3 grey levels on
    # average), and not a pixel off: shifted by one, it is further off (3.6).
    assert off_by(0, 0) < 3
    assert off_by(0, 0) < 0.75 * min(off_by(dy, dx) for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)))
    assert abs(estimate_skew(to_grey(shown), 5.0)) <= 0.3
