"""Cleanup capabilities on real pages: negatives, orientation, deskew, scanner-bed borders, spreads,
resolution, the per-page choice between grey and black and white, profiles, quality flags and language
detection."""

from __future__ import annotations

import json
import os
import subprocess
import weakref
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, ImageOps

from pipeline.api import read_file, reocr_page
from pipeline.evaluation import character_error_rate
from pipeline.options import CONFIGS_DIR, Options
from pipeline.pagework import PageTask, process_page
from pipeline.profiles import (CleanProfile, DespeckleSettings, NormalizeIlluminationSettings, ShowThroughSettings,
                               SplitSpreadsSettings, load_profile)
from pipeline.stages.cleanup import CleanedPage, clean_page, make_positive, split_spread
from pipeline.stages.cleanup.choose import kind_of_page
from pipeline.stages.cleanup.geometry import SKEW_ANALYSIS_SIDE, _best_angle, crop_borders, estimate_skew, rotate
from pipeline.stages.cleanup.holes import fill_punched_holes, find_punched_holes
from pipeline.stages.cleanup.measure import (DARK_CORE, MARKED_BAND_ROWS, _block, _dark_pixels, downscale, forget_page,
                                             ink_mask, letters_of_page, marked, marks_of, percentile_of_bytes,
                                             shrink_by, text_height)
from pipeline.stages.cleanup.orientation import up_down_cues
from pipeline.stages.cleanup.photometric import (SOFT_RIM_RATIO, SOFTNESS_BAND_ROWS, already_clean,
                                                 normalize_illumination, paper_clearly_dark, reduce_show_through,
                                                 stroke_softness)
from pipeline.stages.cleanup.resolution import reduce, resize
from pipeline.stages.cleanup.specks import MEDIAN_MIN_TEXT_PX, SAMPLE_SIDE, despeckle, is_speckled
from pipeline.stages.cleanup.work import Work, to_grey
from pipeline.stages.language import languages_of

from .conftest import DATA, NEEDS_CORPUS, SAMPLES, SHARED_CORPUS, _render_page, _speckled
from .test_fraktur import KANT

PAGES = DATA / "pages"
PHOTOTEST_TRUTH = (PAGES / "phototest.gt.txt").read_text(encoding="utf-8")


def _grey(path: Path) -> np.ndarray:
    return np.array(Image.open(path).convert("L"))


def _truth(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def _options(tmp_path: Path, **values) -> Options:
    return Options(archive=tmp_path / "unused", jobs=1, **values)


# --- negatives -----------------------------------------------------------------------------------------------

def test_a_blank_page_is_no_negative_and_tesseract_reads_white_paper_for_it():
    """A blank back of a sheet holds only the paper's grain, a level or two either way: Otsu's threshold split
    it into two tones of specks, and the page was taken for a negative, made dark, its grain flattened into
    black and white, enlarged as tiny letters and read for four minutes. Left as it was, Tesseract split the
    grain into specks itself, and took nearly a minute over them."""
    blank = np.random.default_rng(3).normal(241.2, 0.6, (3508, 2480)).round().astype(np.uint8)
    assert not make_positive(blank)[1]
    cleaned = clean_page(blank, 300, load_profile("default", CONFIGS_DIR))
    assert cleaned.steps == ("grey", "blank") and (cleaned.ocr == 255).all() and cleaned.access is blank
    # Faint writing is no blank page: letters 8 grey levels under the paper.
    page = _grey(PAGES / "EHRI-DR-19390519-US_03.jpg").astype(float)
    faint = (blank[:page.shape[0], :page.shape[1]] - (255 - page) * 8 / 255).round().astype(np.uint8)
    assert "blank" not in clean_page(faint, 300, load_profile("default", CONFIGS_DIR)).steps


@pytest.mark.parametrize("skew", [0.0, 0.3])
def test_a_halftone_photograph_is_not_enlarged_as_small_letters(skew):
    """A printed photograph's screen dots (85 lines per inch at 300 dpi) measure as letters of 8 px: the page was
    enlarged 2.6x to 60 MP, and Tesseract spent minutes on it. Raw Tesseract reads it in 3 s. Laid a little
    askew, straightened and flattened, its dots were grey enough to cover less of the page: it was enlarged."""
    yy, xx = np.mgrid[0:3508, 0:2480].astype(np.float64)
    tone = 0.5 + 0.4 * np.sin(xx / 300) * np.cos(yy / 420)  # a smooth picture, grey from 0.1 to 0.9
    u, v, period = (xx + yy) / np.sqrt(2), (xx - yy) / np.sqrt(2), 300 / 85
    screen = (np.cos(2 * np.pi * u / period) + np.cos(2 * np.pi * v / period)) / 4 + 0.5
    halftone = np.where(screen < 1 - tone, 0, 255).astype(np.uint8)
    cleaned = clean_page(rotate(halftone, skew, 255) if skew else halftone, 300, load_profile("default", CONFIGS_DIR))
    assert cleaned.ocr_scale == 1.0 and "resolution" not in cleaned.steps


def test_a_microfilm_negative_is_made_positive_and_read_like_the_page(tmp_path):
    """A negative scan (light letters on dark paper, clear film around the frame) becomes a positive for
    reading and for the access copy. Left negative, the cleanup measured its steps on the film, not the page
    (CER 0.095; 0.052 made positive). The file as scanned stays untouched."""
    grey = _grey(PAGES / "EHRI-NISKO-19391112_DE_02.jpg")
    film = np.full((grey.shape[0] + 200, grey.shape[1] + 160), 235, np.uint8)  # clear film: bright
    film[100:-100, 80:-80] = 255 - grey
    scan = tmp_path / "microfilm-frame.png"
    Image.fromarray(film).save(scan, dpi=(300, 300))
    as_scanned = scan.read_bytes()
    task = PageTask(source=scan, format="png", index=0, number=1, work_dir=tmp_path / "work", languages="deu",
                    profile=load_profile("default", CONFIGS_DIR), max_pixels=10**9, default_dpi=300,
                    jpeg_quality=85, tesseract_timeout=300, debug_dir=tmp_path / "steps")
    page = process_page(task)
    assert page.steps[0] == "invert_negative"
    # --debug-dir shows it first (01_grey was already positive: nothing showed the scan was turned)
    assert np.median(np.asarray(Image.open(tmp_path / "steps" / "00_invert_negative.png"))) > 200
    assert character_error_rate(page.text.text, _truth("EHRI-NISKO-19391112_DE_02.gt.txt")) <= 0.07
    assert np.median(np.asarray(Image.open(page.access_image).convert("L"))) > 200  # seen positive: light paper
    assert scan.read_bytes() == as_scanned


@pytest.mark.parametrize("name", ["EHRI-DR-19390519-US_04.jpg", "EHRI-DR-19431002-DK_02.jpg", "phototest.tif",
                                  "EHRI-ET-JMP020_02.jpg", "8071_093.3B.tif"])
def test_positive_pages_are_never_inverted_and_their_negatives_always_are(name):
    page = np.asarray(Image.open(PAGES / name).convert("RGB"))
    same, negative = make_positive(page)
    assert same is page and not negative
    positive, negative = make_positive(255 - page)
    assert negative and np.array_equal(positive, page)
    # a small frame amid wide clear film: most of the scan is bright, the page itself is not
    border = page.shape[0] // 5
    film = np.pad(255 - page, ((border, border), (border, border), (0, 0)), constant_values=235)
    assert make_positive(film)[1]
    # the film of an aged, greyish page in a dark frame (its base 50-70, its letters 200, the frame 15): split
    # from the frame, film and letters were one bright tone, and the negative was read as a positive
    for paper in (0.8, 0.7):
        aged = page.astype(np.float32) * paper + 255 * (1 - paper) * 0.3
        framed = np.pad(30 + (255 - aged) * 0.75, ((100, 100), (100, 100), (0, 0)), constant_values=15)
        noisy = framed + np.random.default_rng(5).normal(0, 5, framed.shape)
        assert make_positive(np.clip(noisy, 0, 255).astype(np.uint8))[1], paper


# --- orientation ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "turn"), [
    ("phototest.tif", 0), ("phototest-rotated-180.png", 180),
    ("phototest-rotated-L.png", 270), ("phototest-rotated-R.png", 90),
])
def test_turned_pages_come_out_upright_and_read_well(name, turn, tmp_path):
    pages = read_file(PAGES / name, _options(tmp_path))
    assert [p.turn for p in pages] == [turn]
    assert character_error_rate(pages[0].text.text, PHOTOTEST_TRUTH) <= 0.03


def _cleaned_upright(page: np.ndarray, quarters: int) -> CleanedPage:
    """`page` turned `quarters` quarter turns counter-clockwise, then cleaned: the cleanup must turn it back."""
    cleaned = clean_page(np.ascontiguousarray(np.rot90(page, quarters)), 300, CleanProfile(name="t"))
    assert (cleaned.turn + 90 * quarters) % 360 == 0
    return cleaned


@pytest.mark.parametrize("name", ["EHRI-DR-19431002-DK_02.jpg", "EHRI-NISKO-19391112_DE_02.jpg"])
@pytest.mark.parametrize("quarters", [1, 2, 3])
def test_turned_archive_typescripts_come_out_upright(name, quarters):
    """Real typescripts (a 150 dpi photograph with small letters, a skewed page tagged 72 dpi) turned by
    quarters: the turn found puts each upright. A typewriter's letter grid makes columns nearly as sharp as
    its lines, and Tesseract's orientation detector answers wrongly, and sure of it, on copies whose
    letters are too small."""
    _cleaned_upright(np.array(Image.open(PAGES / name)), quarters)


def _typed_on_both_sides(page: np.ndarray, lower: float) -> np.ndarray:
    """`page` (grey) on thin paper with the same text typed on its back, whose lines lie `lower` (a share of the
    page's height) than the front's: the back's ink shows through, back to front, at a quarter of its darkness."""
    back = np.roll(page[:, ::-1], round(lower * page.shape[0]), axis=0)
    return np.clip(page - (255 - back.astype(np.float32)) / 4, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("lower", [0.0025, 0.005, 0.01])
@pytest.mark.parametrize("quarters", [0, 2])
def test_the_reverse_side_showing_through_does_not_turn_a_page(lower, quarters):
    """Thin paper typed on both sides: the back's letters show through, grey and back to front, between the
    front's lines. Their ink below and above the lines outweighed the front's ascenders: turned upside down,
    the page was left on its head at each of these offsets before its dark pixels were measured too."""
    _cleaned_upright(_typed_on_both_sides(_grey(PAGES / "EHRI-DR-19390519-US_04.jpg"), lower), quarters)


def _faded(page: np.ndarray) -> np.ndarray:
    """`page` (grey) with its ink faded to 35 % of its darkness against the paper (bench/scan_variants.py's
    "faded")."""
    paper = float(np.percentile(page, 90))
    return np.clip(paper - (paper - page.astype(np.float32)) * 0.35, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("quarters", [0, 1, 2, 3])
def test_a_faded_snippet_of_a_few_typed_lines_comes_out_upright(quarters):
    """A strip cut from a page (four typed lines, 845 x 279 px), faded, the back's lines showing through. Its
    letters (28 px, capitals taller) were measured against its length, not its height: marks over a 25th of
    845 px did not count as letters, and what was left of them could not tell lines from columns. Turned a
    quarter, it stayed so."""
    page = _typed_on_both_sides(_grey(PAGES / "EHRI-ET-JMP020_02.jpg"), 0.005)
    height, width = page.shape
    strip = page[int(0.4 * height):int(0.48 * height), int(0.1 * width):int(0.45 * width)]
    _cleaned_upright(_faded(strip), quarters)


DIBCO_PR1 = SHARED_CORPUS / "edge" / "dibco11" / "DIBCO11_PR1.png"


@pytest.mark.skipif(not DIBCO_PR1.is_file(), reason=NEEDS_CORPUS)
@pytest.mark.parametrize("quarters", [0, 1, 2, 3])
def test_a_printed_snippet_comes_out_upright_whichever_way_it_lay(quarters):
    """PR1 standing on its end (turned 90) showed up-and-down cues that said "upright", and the detector was not
    asked: it stayed on its side. A strip standing on its end whose lines and columns measure alike is shown to
    the detector now (orientation._standing_strip)."""
    _cleaned_upright(_grey(DIBCO_PR1), quarters)


@pytest.mark.skipif(not DIBCO_PR1.is_file(), reason=NEEDS_CORPUS)
@pytest.mark.parametrize("quarters", [
    0, 2, 3, pytest.param(1, marks=pytest.mark.xfail(strict=True, reason=(
        "standing on its end and straightened, the faded strip's columns measure 0.699 of its lines, just under "
        "ALIKE_RATIO (0.7), so Tesseract's detector, which answers it rightly, is not asked"))),
])
def test_a_faded_printed_snippet_comes_out_upright(quarters):
    """DIBCO 2011's PR1: four lines of Fraktur on 1381 x 368 px, the back's print showing through. Faded, its
    letters' fragments and the specks of the back lined up in columns: upright, it was turned on its side and
    read as nothing (CER 0.99). Its lines and columns measure alike, in every turn: turned a quarter it stayed
    so, though Tesseract's detector, asked whether it stood on its head, said how it lay."""
    _cleaned_upright(_faded(_grey(DIBCO_PR1)), quarters)


@pytest.mark.skipif(not KANT.is_file(), reason=NEEDS_CORPUS)
@pytest.mark.parametrize("quarters", [1, 3])
def test_a_book_page_on_a_scanner_bed_turned_a_quarter_comes_out_upright(quarters):
    """The Kant page shows the stacked edges of the book's other pages along one side: long straight lines.
    On a dark scanner bed they moved into the inner part of the scan, where lines and columns are compared,
    and the page turned a quarter was taken for upright. They are measured within the sheet now."""
    _cleaned_upright(_on_a_bed(_grey(KANT)), quarters)


def _on_a_bed(page: np.ndarray) -> np.ndarray:
    """`page` (grey) laid 1 degree askew on a dark, noisy scanner bed that shows 6 % of its longer side all round
    (bench/scan_variants.py's "bed")."""
    margin = round(0.06 * max(page.shape))
    framed = np.pad(page, margin)
    height, width = framed.shape
    askew = cv2.getRotationMatrix2D((width / 2, height / 2), 1.0, 1.0)
    on_sheet = cv2.warpAffine(np.pad(np.full_like(page, 255), margin), askew, (width, height)) > 127
    lid = np.random.default_rng(3).normal(40, 8, framed.shape).clip(0, 255).astype(np.uint8)
    return np.where(on_sheet, cv2.warpAffine(framed, askew, (width, height), flags=cv2.INTER_CUBIC), lid)


JMP020_01 = SHARED_CORPUS / "ocr" / "ehri" / "EHRI-ET-JMP020_01.jpg"


@pytest.mark.skipif(not JMP020_01.is_file(), reason=NEEDS_CORPUS)
@pytest.mark.parametrize("quarters", [1, 2, 3])
def test_a_typescript_on_a_scanner_bed_comes_out_upright_whichever_way_it_lay(quarters):
    """Tesseract's orientation detector, asked when the cheap cues cannot settle a turn, took the bed's edges
    for ink: this typescript on a bed was answered the wrong way up, sure of it, turned a quarter or turned
    over. Its answer counts now only when the sheet alone gets the same one."""
    _cleaned_upright(_on_a_bed(_grey(JMP020_01)), quarters)


@pytest.mark.parametrize("quarters", [1, 2, 3])
def test_a_typescript_on_a_scanner_bed_whose_lines_and_columns_measure_alike_comes_out_upright(quarters):
    """DK_02 on a bed, turned 270: its columns measured 1.59 times sharper than its lines, under the 1.6 that
    says "on its side", and it was left so, though Tesseract's detector, asked whether it stood on its head,
    answered that it lay on its side."""
    _cleaned_upright(_on_a_bed(_grey(PAGES / "EHRI-DR-19431002-DK_02.jpg")), quarters)


BOSTON = SHARED_CORPUS / "edge" / "ocrd-assets" / "boston_cooking_a.jpg"


@pytest.mark.skipif(not BOSTON.is_file(), reason=NEEDS_CORPUS)
@pytest.mark.parametrize("quarters", [0, 2])
def test_a_photographed_curved_book_page_comes_out_upright(quarters):
    """A camera photo of an open book: its lines bulge. Projected across the whole page, the curves outweighed
    the letters, and the up-or-down cue said upright of the page on its head (and upside down of it upright),
    so turned over it was left so. Measured in strips of the page, the cue points the right way."""
    photo = np.array(ImageOps.exif_transpose(Image.open(BOSTON)).convert("L"))  # stored lying on its side
    cleaned = _cleaned_upright(photo, quarters)
    ascender, _, _ = up_down_cues(rotate(np.rot90(photo, quarters), -cleaned.skew_angle, 255))[0]
    assert (ascender > 0) == (quarters == 0)


def _refuse_the_orientation_detector(monkeypatch) -> None:
    from pipeline.stages.cleanup import orientation

    def refuse(*args, **kwargs):
        raise AssertionError("Tesseract's orientation detector must not run where the cues are clear")

    monkeypatch.setattr(orientation, "osd_turn", refuse)
    monkeypatch.setattr("pipeline.stages.cleanup.osd_turn", refuse)


@pytest.mark.parametrize("name", ["EHRI-DR-19390519-US_04.jpg", "EHRI-ET-JMP020_02.jpg"])
def test_an_upright_page_costs_no_orientation_detector_run(monkeypatch, name):
    """Also a page of a few typed lines with handwriting, a signature and a stamp: the up-or-down cue is
    taken from the lines of print only."""
    _refuse_the_orientation_detector(monkeypatch)
    page = np.array(Image.open(PAGES / name))
    assert clean_page(page, 300, CleanProfile(name="t")).turn == 0


@pytest.mark.parametrize("quarters", [1, 2, 3])
@pytest.mark.parametrize("name", ["EHRI-DR-19390519-US_04.jpg", "EHRI-ET-JMP020_02.jpg"])
def test_a_page_clearly_turned_is_set_upright_without_the_orientation_detector(monkeypatch, name, quarters):
    """Upside down, its letters' ascenders hang below the lines on all the page, and their dark pixels say the
    same. On its side, it is turned a quarter, and then the same holds if that put it on its head."""
    _refuse_the_orientation_detector(monkeypatch)
    page = np.ascontiguousarray(np.rot90(np.array(Image.open(PAGES / name)), quarters))
    assert clean_page(page, 300, CleanProfile(name="t")).turn == (4 - quarters) * 90


@pytest.mark.skipif(not DIBCO_PR1.is_file(), reason=NEEDS_CORPUS)
def test_an_upright_snippet_whose_back_shows_through_costs_no_orientation_detector_run(monkeypatch):
    """PR1's back, showing through between its closely set lines of Fraktur, joins its letters' lines into two
    bands, too few for their cues to count; its dark pixels part them into lines that say "upright", and the
    letters' ascenders agree. The detector (40 % of the strip's cleanup) was asked only to say the same."""
    _refuse_the_orientation_detector(monkeypatch)
    assert clean_page(_grey(DIBCO_PR1), 300, CleanProfile(name="t")).turn == 0


# --- deskew --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("angle", [-12.0, -3.2, -0.8, 1.5, 4.0, 8.5])
def test_a_skewed_page_is_straight_within_a_third_of_a_degree(angle):
    """Up to the profile's max_angle (40 degrees by default). A sheet laid 8-12 degrees askew was taken for one
    lying on its side, or straightened by only 5 degrees, when the lines were looked for up to 5 degrees only."""
    page = _grey(PAGES / "EHRI-DR-19390519-US_04.jpg")
    original_skew = estimate_skew(page, 5.0)  # the scan itself is not perfectly straight
    skewed = rotate(page, angle, 255)
    cleaned = clean_page(skewed, 300, CleanProfile(name="t"))
    assert cleaned.turn == 0
    assert abs(cleaned.skew_angle - (angle + original_skew)) <= 0.3
    assert cleaned.access is skewed  # the scan keeps its pixels: the page shows it turned (stages.render)
    assert abs(estimate_skew(cleaned.page_image(), 5.0)) <= 0.3  # the page people see
    # What Tesseract reads is straight too, unless it is a clean page skewed so little that it is read as
    # scanned (here -0.8 + 0.38 degrees): then its reading is turned onto the straight page (test_text_turn).
    if cleaned.text_turn:
        assert cleaned.as_scanned and cleaned.text_turn == -cleaned.skew_angle
    else:
        assert abs(estimate_skew(cleaned.ocr, 5.0)) <= 0.3


def _laid_askew(page: np.ndarray, angle: float) -> np.ndarray:
    """`page` turned by `angle` degrees on a canvas of its paper's tone just large enough to hold it: a sheet
    laid crooked on a larger glass, or photographed so."""
    height, width = page.shape
    cos, sin = abs(np.cos(np.deg2rad(angle))), abs(np.sin(np.deg2rad(angle)))
    size = (int(width * cos + height * sin) + 2, int(height * cos + width * sin) + 2)
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    matrix[:, 2] += ((size[0] - width) / 2, (size[1] - height) / 2)
    return cv2.warpAffine(page, matrix, size, flags=cv2.INTER_CUBIC, borderValue=int(np.percentile(page, 90)))


@pytest.mark.parametrize("quarter, angle", [(0, 30.0), (0, -35.0), (90, 22.0), (180, -25.0)])
def test_a_sheet_laid_far_askew_comes_out_upright_and_straight(quarter, angle):
    """Beyond 15 degrees the lines were not looked for: a sheet laid 18-35 degrees askew was read as nothing
    (CER 0.8). Up to 40 degrees now, lying on its side or on its head too."""
    page = _grey(PAGES / "EHRI-DR-19390519-US_04.jpg")
    original_skew = estimate_skew(page, 5.0)
    forget_page()
    cleaned = clean_page(_laid_askew(np.ascontiguousarray(np.rot90(page, quarter // 90)), angle), 300,
                         CleanProfile(name="t"))
    assert (quarter + cleaned.turn) % 360 == 0
    assert abs(cleaned.skew_angle - (angle + original_skew)) <= 0.3


@pytest.mark.parametrize("angle", [12.0, -10.0])
def test_hatching_at_an_angle_does_not_turn_a_straight_page(angle):
    """A straight page whose few lines of text are not found within 5 degrees, above a figure hatched in dashes
    at 12 or -10 degrees (a plan's hatched area). The wider skew search took the hatching for lines: the page was
    turned by its angle, and at -10 degrees turned over too. Hatching's strokes repeat closer than lines of text."""
    sheet = np.full((3508, 2480), 255, np.uint8)
    sheet[250:450, 240:1440] = _grey(PAGES / "EHRI-DR-19390519-US_04.jpg")[300:500, 150:1350]
    figure = np.full((1000, 1200), 255, np.uint8)
    dx, dy = np.cos(np.deg2rad(angle)), -np.sin(np.deg2rad(angle))
    for offset in range(-1400, 1400, 12):  # lines 12 px apart, in dashes of 30 px every 45
        x0, y0 = 600 - 1400 * dx - offset * dy, 500 - 1400 * dy + offset * dx
        for start in range(0, 2800, 45):
            cv2.line(figure, (int(x0 + start * dx), int(y0 + start * dy)),
                     (int(x0 + (start + 30) * dx), int(y0 + (start + 30) * dy)), 40, 2)
    sheet[800:1800, 640:1840] = figure
    cleaned = clean_page(sheet, 300, CleanProfile(name="t"))
    assert cleaned.turn == 0 and abs(cleaned.skew_angle) <= 5


@pytest.mark.parametrize("max_angle, angles", [(5.0, (-3.65, -1.5, 0.45, 2.35, 4.15)),
                                                (15.0, (-13.85, -7.15, 0.45, 6.35, 11.75))])
def test_the_skew_search_finds_what_a_search_of_every_coarse_step_finds(max_angle, angles):
    """The coarse steps (0.3 degrees apart) are taken only within a degree of the best whole degree, and
    the whole degrees beyond 5 only when none within stands out: on real pages turned by angles between the
    whole degrees, the skew is the one that every coarse step, searched, then leads to."""
    def every_coarse_step(grey):
        _, ys, xs = letters_of_page(grey, SKEW_ANALYSIS_SIDE)
        first = -5.0 - 0.3 * int((max_angle - 5.0) / 0.3)  # the steps of a search of 5 degrees, continued
        best, _ = _best_angle(ys, xs, np.arange(first, max_angle + 0.15, 0.3))
        best, _ = _best_angle(ys, xs, np.arange(best - 0.3, best + 0.31, 0.05))
        return round(best, 2)

    for name in ("EHRI-DR-19390519-US_04.jpg", "EHRI-NISKO-19391112_DE_02.jpg", "phototest.tif"):
        page = _grey(PAGES / name)
        for angle in angles:
            turned = rotate(page, angle, 255)
            assert estimate_skew(turned, max_angle) == every_coarse_step(turned), (name, angle)
            forget_page()


def test_a_colour_page_turned_on_four_channels_is_turned_exactly():
    """`rotate` turns a colour page as RGBA (faster in OpenCV); it must come out pixel for pixel as turned on
    its three channels, the paper colour filling the corners included."""
    colour = np.array(Image.open(PAGES / "EHRI-ET-JMP020_02.jpg").convert("RGB"))
    turned = rotate(colour, 2.7, (250, 240, 200))
    assert tuple(turned[0, -1]) == (250, 240, 200)  # a filled corner
    matrix = cv2.getRotationMatrix2D((colour.shape[1] / 2, colour.shape[0] / 2), 2.7, 1.0)
    three_channels = cv2.warpAffine(colour, matrix, colour.shape[1::-1], flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_CONSTANT, borderValue=(250, 240, 200))
    assert np.array_equal(turned, three_channels)


# --- scanner-bed borders -------------------------------------------------------------------------------------

def test_a_dark_scanner_bed_border_goes_and_all_text_stays(tmp_path):
    page = np.array(Image.open(PAGES / "EHRI-DR-19390519-US_03.jpg").convert("L"))
    height, width = page.shape
    rng = np.random.default_rng(7)
    bed = rng.normal(35, 8, (height + 300, width + 260)).clip(0, 255).astype(np.uint8)
    bed[140:140 + height, 120:120 + width] = page  # the page lies off-centre on a dark, noisy bed
    scan = tmp_path / "bed.png"
    Image.fromarray(bed).save(scan, dpi=(300, 300))

    cleaned = clean_page(bed, 300, CleanProfile(name="t"))
    left, top, right, bottom = cleaned.crop_box
    margin = 40  # the crop keeps a safety margin of about 2 mm around the paper
    assert left >= 120 - margin and top >= 140 - margin
    assert right <= 120 + width + margin and bottom <= 140 + height + margin
    assert right - left >= width - 10 and bottom - top >= height - 10  # no column of the page was cut
    edge = np.concatenate([cleaned.ocr[:, :5].ravel(), cleaned.ocr[:, -5:].ravel(),
                           cleaned.ocr[:5].ravel(), cleaned.ocr[-5:].ravel()])
    assert np.mean(edge < 128) < 0.01  # no dark band left for Tesseract to read as letters
    # The sheet itself is clean: it is read as its crop shows it, not flattened or made black and white.
    assert cleaned.steps[-2:] == ("crop_borders", "already_clean") and cleaned.keep_grey
    sheet = (slice(140 - top + 20, 140 - top + height - 20), slice(120 - left + 20, 120 - left + width - 20))
    assert np.array_equal(cleaned.ocr[sheet], to_grey(cleaned.page_image())[sheet])

    text = read_file(scan, _options(tmp_path))[0].text.text
    plain = read_file(PAGES / "EHRI-DR-19390519-US_03.jpg", _options(tmp_path))[0].text.text
    truth = _truth("EHRI-DR-19390519-US_03.gt.txt")
    assert character_error_rate(text, truth) <= character_error_rate(plain, truth) + 0.01


def test_a_fold_or_a_rule_across_the_page_cuts_none_of_it():
    """A dark line from edge to edge split the bright paper in two, and the crop kept the larger part only: a
    fold's shadow at 45 % of the height cut the upper half of the page from the PDF and the text."""
    page = _grey(PAGES / "EHRI-DR-19390519-US_03.jpg")
    height, width = page.shape
    rows = np.arange(height)[:, None]
    folded = (page * (1 - 0.65 * np.exp(-((rows - 0.45 * height) / 25.0) ** 2))).astype(np.uint8)
    ruled = page.copy()
    ruled[:, int(0.45 * width): int(0.45 * width) + 12] = 0  # a thick rule down the page, edge to edge
    default = load_profile("default", CONFIGS_DIR)
    for scan in (folded, ruled):
        cut = crop_borders(Work(access=scan, ocr=scan, dpi_scale=1.0), default.crop_borders)
        middle = slice(int(0.3 * height), int(0.6 * height))  # nothing cut, and nothing whitened along the line
        assert cut is None or cut.crop_box is None and np.array_equal(cut.ocr[middle], scan[middle])
    # Two pages of a register on a dark bed, a dark gutter between them: both stay.
    bed = np.full((height + 200, 2 * width + 300), 30, np.uint8)
    bed[100:100 + height, 100:100 + width] = page
    bed[100:100 + height, 200 + width:200 + 2 * width] = page
    cut = crop_borders(Work(access=bed, ocr=bed, dpi_scale=1.0), default.crop_borders)
    left, top, right, bottom = cut.crop_box
    assert left <= 100 and right >= 200 + 2 * width and top <= 100 and bottom >= 100 + height


def test_dim_paper_cut_from_a_scanner_bed_is_flattened_white_up_to_its_edge():
    """The bed whitened around the sheet is not paper: taken for it, its white made the paper along the sheet's
    edge measure brighter than it was, and the flattening left a dark band there (10 % of it darker than 206)."""
    dim = (_grey(PAGES / "EHRI-DR-19390519-US_04.jpg") * 0.65).astype(np.uint8)  # paper about 155
    scan = _on_a_bed(dim)
    default = load_profile("default", CONFIGS_DIR)
    cut = crop_borders(Work(access=scan, ocr=scan, dpi_scale=1.0), default.crop_borders)
    flat = normalize_illumination(cut, default.normalize_illumination).ocr
    sheet = cut.ocr < 255  # the whitened bed is 255, this paper never
    near_bed = cv2.dilate((~sheet).astype(np.uint8), np.ones((81, 81), np.uint8)) > 0
    assert np.percentile(flat[sheet & near_bed], 10) >= 240
    assert np.percentile(flat[sheet & ~near_bed], 50) >= 250  # and the rest of the sheet as before


def test_a_strip_of_scanner_bed_beside_a_page_that_fills_the_scan_is_whitened_for_ocr():
    """DK_02 fills its scan, but the dark bed shows in a strip down its right edge: there is nothing to cut,
    and Tesseract would read the strip's edge as letters. Only the OCR image loses it, and only at the edges."""
    page = np.array(Image.open(PAGES / "EHRI-DR-19431002-DK_02.jpg"))
    grey = _grey(PAGES / "EHRI-DR-19431002-DK_02.jpg")
    default = load_profile("default", CONFIGS_DIR)
    assert np.mean(grey[:, -8:] < 128) > 0.8  # the strip

    whitened = crop_borders(Work(access=page, ocr=grey, dpi_scale=150 / 300), default.crop_borders)
    assert whitened.crop_box is None and whitened.access is page  # nothing cut
    assert np.mean(whitened.ocr[:, -8:] < 128) < 0.01
    height, width = grey.shape
    inner = (slice(int(0.03 * height), int(0.97 * height)), slice(int(0.03 * width), int(0.97 * width)))
    assert np.array_equal(whitened.ocr[inner], grey[inner])  # the page itself is untouched

    for name in ("EHRI-DR-19390519-US_04.jpg", "EHRI-NISKO-19391112_DE_02.jpg"):  # no bed: nothing to do
        clean = _grey(PAGES / name)
        assert crop_borders(Work(access=clean, ocr=clean, dpi_scale=1.0), default.crop_borders) is None

    # A clean page with such a strip is still read as scanned: raw Tesseract reads it as well with the strip as
    # without, and the full cleanup read three of four such pages worse.
    clean = np.array(Image.open(PAGES / "EHRI-DR-19390519-US_04.jpg"))
    clean[:, -int(0.012 * clean.shape[1]):] = 35
    assert clean_page(clean, 300, default).as_scanned

    # Mostly dark below a strip of paper (a dark photograph, a negative): too little paper to trust its outline.
    dark = _grey(PAGES / "EHRI-DR-19390519-US_04.jpg").copy()
    height, width = dark.shape
    dark[int(0.3 * height):, int(0.05 * width): int(0.95 * width)] = 40
    assert crop_borders(Work(access=dark, ocr=dark, dpi_scale=1.0), default.crop_borders) is None


# --- punched holes -------------------------------------------------------------------------------------------

def test_punched_holes_are_filled_in_the_ocr_image_and_nothing_else_changes():
    page = np.array(Image.open(PAGES / "EHRI-DR-19431002-DK_02.jpg"))  # two holes in the left margin
    grey = _grey(PAGES / "EHRI-DR-19431002-DK_02.jpg")
    default = load_profile("default", CONFIGS_DIR)
    filled = fill_punched_holes(Work(access=page, ocr=grey, dpi_scale=150 / 300), default.crop_borders)
    assert filled.holes == 2
    changed = np.argwhere(filled.ocr != grey)
    assert len(changed) > 0 and changed[:, 1].max() < 0.1 * grey.shape[1]  # only in the left margin
    assert filled.ocr[changed[:, 0], changed[:, 1]].mean() > 150  # now paper, not dark discs
    assert filled.access is page  # the access copy keeps the holes
    # The flattening measures the paper on the copy the holes were found on, its discs filled too. It differs
    # from a fresh copy of the filled page only along the discs' rims: the flattened page, by at most 2 grey
    # levels and only around the holes.
    flat = normalize_illumination(filled, default.normalize_illumination).ocr
    forget_page()
    fresh = normalize_illumination(filled, default.normalize_illumination).ocr
    moved = np.argwhere(flat != fresh)
    assert not len(moved) or moved[:, 1].max() < 0.15 * grey.shape[1]  # only in the left margin, if at all
    assert np.abs(flat.astype(int) - fresh).max() <= 2

    kept = default.model_copy(update={"crop_borders": default.crop_borders.model_copy(update={"punched_holes": False})})
    assert "fill_punched_holes" in clean_page(page, 150, default).steps
    assert "fill_punched_holes" not in clean_page(page, 150, kept).steps


@pytest.mark.parametrize("name", ["EHRI-DR-19390519-US_03.jpg", "EHRI-DR-19390519-US_04.jpg", "phototest.tif",
                                  "EHRI-NISKO-19391112_DE_02.jpg"])
def test_letters_are_never_taken_for_punched_holes(name):
    page = _grey(PAGES / name)
    assert find_punched_holes(page, 300, 0.5, text_height(page)) == []
    assert find_punched_holes(page, 72, 0.5, text_height(page)) == []  # whatever the dpi tag says


# --- coloured stamps and signatures --------------------------------------------------------------------------

def _stamped(page: np.ndarray) -> np.ndarray:
    """`page` (RGB) stamped in red over its text, as a town hall stamps its records (a ring, its name, a number,
    seven tenths opaque), and signed across it in blue ink."""
    height, width = page.shape[:2]
    centre, radius = (width // 2, height // 3), width // 6
    stamp = page.copy()
    red = (200, 40, 40)
    cv2.circle(stamp, centre, radius, red, radius // 20)
    cv2.circle(stamp, centre, int(radius * 0.7), red, radius // 30)
    cv2.putText(stamp, "PRIMARIA", (centre[0] - radius // 2, centre[1]), cv2.FONT_HERSHEY_SIMPLEX, radius / 150, red,
                radius // 50)
    stamped = cv2.addWeighted(stamp, 0.7, page, 0.3, 0)
    xs = np.linspace(centre[0], centre[0] + 2 * radius, 200)
    ys = centre[1] + radius + 0.25 * radius * np.sin(np.linspace(0, 25, 200))
    cv2.polylines(stamped, [np.stack([xs, ys], axis=1).astype(np.int32)], False, (20, 60, 150), radius // 40,
                  cv2.LINE_AA)
    return stamped


def test_a_red_stamp_and_a_blue_signature_over_typescript_are_left_out_of_what_tesseract_reads(tmp_path):
    """In grey a red stamp is as dark as the letters under it: a stamped typescript read worse than raw Tesseract
    (CER 0.25, raw 0.21). The OCR image takes each pixel's brightest channel: black ink stays, the stamp fades."""
    page = np.asarray(Image.open(PAGES / "EHRI-NISKO-19391112_DE_02.jpg").convert("RGB"))
    scan = tmp_path / "stamped.png"
    Image.fromarray(_stamped(page)).save(scan, dpi=(150, 150))
    (read,) = read_file(scan, _options(tmp_path, languages="deu"))
    truth = _truth("EHRI-NISKO-19391112_DE_02.gt.txt")
    raw = subprocess.run(["tesseract", str(scan), "-", "-l", "deu"], capture_output=True, text=True, check=True,
                         env={**os.environ, "OMP_THREAD_LIMIT": "1"}).stdout
    assert "leave_out_colour_marks" in read.steps
    assert character_error_rate(read.text.text, truth) < 0.5 * character_error_rate(raw, truth)  # 0.04 vs 0.17
    cleaned = clean_page(_stamped(page), 150, CleanProfile(name="t"))
    assert cleaned.access.ndim == 3  # people see the stamp as it is


def test_a_page_written_in_coloured_ink_keeps_its_ink():
    """Blue or violet ink is the page's own writing, not marks over it: read in grey as before."""
    from pipeline.stages.cleanup.colour_marks import ocr_grey

    grey = _grey(PAGES / "EHRI-DR-19390519-US_04.jpg").astype(np.float32)[..., None] / 255
    for ink in ((30, 60, 170), (110, 40, 140)):  # blue, violet
        coloured = (grey * np.array([242, 232, 205]) + (1 - grey) * np.array(ink)).astype(np.uint8)
        assert not ocr_grey(coloured)[1], ink
    assert ocr_grey(np.asarray(Image.open(PAGES / "EHRI-DR-19390519-US_04.jpg").convert("RGB")))[1] is False


# --- show-through --------------------------------------------------------------------------------------------

def test_show_through_is_whitened_and_the_page_s_own_ink_stays():
    recto = _grey(PAGES / "EHRI-DR-19390519-US_03.jpg")
    # The reverse side (another real page), mirrored and seen through the paper: its ink only a faint grey.
    verso = cv2.resize(_grey(PAGES / "EHRI-DR-19390519-US_04.jpg")[:, ::-1], recto.shape[::-1])
    page = np.minimum(recto, (255 - (255 - verso.astype(np.float32)) * 0.3).astype(np.uint8))
    flat = normalize_illumination(Work(access=page, ocr=page, dpi_scale=1.0), NormalizeIlluminationSettings())
    cleaned = reduce_show_through(flat, ShowThroughSettings(enabled=True))

    verso_only = (verso < 100) & (cv2.erode(recto, np.ones((5, 5), np.uint8)) > 200)
    assert verso_only.sum() > 10_000 and np.mean(flat.ocr[verso_only] < 215) > 0.9  # visible before
    # whitened after, but for marks that touch the page's own letters (a mark with an ink core stays whole)
    assert np.mean(cleaned.ocr[verso_only] == 255) > 0.5
    own_ink = recto < 100
    assert np.mean(cleaned.ocr[own_ink] == flat.ocr[own_ink]) > 0.99  # the page's own text untouched


def test_a_page_without_show_through_is_left_alone():
    page = _grey(PAGES / "EHRI-DR-19390519-US_03.jpg")
    flat = normalize_illumination(Work(access=page, ocr=page, dpi_scale=1.0), NormalizeIlluminationSettings())
    assert reduce_show_through(flat, ShowThroughSettings(enabled=True)) is None


# --- two-page spreads ----------------------------------------------------------------------------------------

def _spread(tmp_path: Path) -> Path:
    left, right = (_grey(PAGES / f"EHRI-DR-19390519-US_0{n}.jpg") for n in (3, 4))
    height = max(left.shape[0], right.shape[0])
    fold = np.full((height, 60), 255, np.uint8)
    fold[:, 28:32] = 90  # the binding's shadow line
    halves = [np.pad(p, ((0, height - p.shape[0]), (0, 0)), constant_values=255) for p in (left, right)]
    path = tmp_path / "spread.png"
    Image.fromarray(np.hstack([halves[0], fold, halves[1]])).save(path, dpi=(300, 300))
    return path


def test_a_two_page_spread_becomes_two_pages_in_order(tmp_path):
    spread = _spread(tmp_path)
    parts = split_spread(_grey(spread), SplitSpreadsSettings())
    assert len(parts) == 2
    assert 1486 <= parts[0].shape[1] <= 1486 + 60  # split at the fold, not inside a page

    pages = read_file(spread, _options(tmp_path, profile="printed-book"))
    assert [p.number for p in pages] == [1, 2]
    assert character_error_rate(pages[0].text.text, _truth("EHRI-DR-19390519-US_03.gt.txt")) <= 0.1
    assert character_error_rate(pages[1].text.text, _truth("EHRI-DR-19390519-US_04.gt.txt")) <= 0.12


def test_a_spread_scanned_upside_down_becomes_its_two_pages_in_order(tmp_path):
    """Each half was turned upright, but the right half of the scan (the left page, turned over) came second."""
    spread = _spread(tmp_path)
    Image.fromarray(np.ascontiguousarray(np.rot90(_grey(spread), 2))).save(spread, dpi=(300, 300))
    pages = read_file(spread, _options(tmp_path, profile="printed-book"))
    assert [(p.number, p.part, p.turn) for p in pages] == [(1, 1, 180), (2, 2, 180)]
    assert character_error_rate(pages[0].text.text, _truth("EHRI-DR-19390519-US_03.gt.txt")) <= 0.1
    assert character_error_rate(pages[1].text.text, _truth("EHRI-DR-19390519-US_04.gt.txt")) <= 0.12


@pytest.mark.parametrize("quarter", [1, 3])
def test_a_spread_lying_on_its_side_becomes_its_two_pages_in_order(tmp_path, quarter):
    """A register photographed with the camera turned: portrait-shaped, its pages one above the other and their
    lines running down. It was not split (a spread had to be landscape-shaped): one page of two turned upright,
    read across the fold."""
    spread = _spread(tmp_path)
    Image.fromarray(np.ascontiguousarray(np.rot90(_grey(spread), quarter))).save(spread, dpi=(300, 300))
    pages = read_file(spread, _options(tmp_path, profile="printed-book"))
    assert [(p.number, p.part) for p in pages] == [(1, 1), (2, 2)]
    # each page's turn told from the scan (it said 180, the turn from the spread turned a quarter to be cut)
    assert [p.turn for p in pages] == [(360 - 90 * quarter) % 360] * 2
    assert character_error_rate(pages[0].text.text, _truth("EHRI-DR-19390519-US_03.gt.txt")) <= 0.1
    assert character_error_rate(pages[1].text.text, _truth("EHRI-DR-19390519-US_04.gt.txt")) <= 0.12


def test_an_ingested_spread_becomes_two_pages_of_the_document_before_the_next_scan(tmp_path, run_cli,
                                                                                     archive_dir):
    # One multi-page TIFF: a two-page spread, then a single page. The document gets three pages in reading
    # order, each remembering which scanned page (and which half) it came from.
    spread = Image.open(_spread(tmp_path))
    single = Image.open(PAGES / "EHRI-DR-19390519-US_04.jpg").convert("L")
    register = tmp_path / "in" / "register.tif"
    register.parent.mkdir()
    spread.save(register, save_all=True, append_images=[single], dpi=(300, 300), compression="tiff_lzw")

    result = run_cli("ingest", str(register.parent), "--profile", "printed-book", "--lang", "eng", "--json")
    assert result.exit_code == 0, result.output
    (folder,) = (archive_dir / "documents").iterdir()
    record = json.loads((folder / "document.json").read_text(encoding="utf-8"))
    assert [(p["number"], p["scan_page"], p["part"]) for p in record["pages"]] == [(1, 1, 1), (2, 1, 2), (3, 2, 0)]
    texts = [(folder / "pages" / f"000{n}.txt").read_text(encoding="utf-8") for n in (1, 2, 3)]
    assert character_error_rate(texts[0], _truth("EHRI-DR-19390519-US_03.gt.txt")) <= 0.1
    assert character_error_rate(texts[1], _truth("EHRI-DR-19390519-US_04.gt.txt")) <= 0.12
    assert character_error_rate(texts[2], _truth("EHRI-DR-19390519-US_04.gt.txt")) <= 0.12
    assert json.loads(result.stdout)["summary"]["pages"] == 3

    # Re-reading the right half (as the portal's review queue does) reads that half again, not the spread.
    before, after = reocr_page(Options(archive=archive_dir, languages="eng", profile="printed-book"),
                               folder.name, 2)
    assert before.strip() == texts[1].strip()
    assert character_error_rate(after, _truth("EHRI-DR-19390519-US_04.gt.txt")) <= 0.12


def test_a_real_magazine_spread_becomes_its_two_pages(tmp_path):
    """UNLV 8071_093.3B: two magazine pages scanned open, the headline "What Kids Need Most in a Dad" running
    across the gutter, scanner bed below them. It was not found before the bed was left out of the search."""
    pages = read_file(PAGES / "8071_093.3B.tif", _options(tmp_path, profile="printed-book"))
    assert [(p.number, p.part) for p in pages] == [(1, 1), (2, 2)]
    left, right = pages[0].text.text, pages[1].text.text
    assert "What Kids" in left and "Need Most" not in left  # split in the gutter, inside the headline
    assert "Need Most" in right and "tricycle" in right and "tricycle" not in left


def test_a_spread_photographed_on_a_dark_table_is_split_at_its_fold():
    """The table's edge above and below the pages looked like ink in every column and hid the empty band
    of the fold: no spread on a bed was found."""
    left, right = (_grey(PAGES / f"EHRI-DR-19390519-US_0{n}.jpg") for n in (3, 4))
    height = max(left.shape[0], right.shape[0])
    pages = np.hstack([np.pad(p, ((0, height - p.shape[0]), (0, 0)), constant_values=255) for p in (left, right)])
    pad = 120
    table = np.random.default_rng(3).normal(35, 8, (height + 2 * pad, pages.shape[1] + 2 * pad))
    table = table.clip(0, 255).astype(np.uint8)
    table[pad:pad + height, pad:pad + pages.shape[1]] = pages
    parts = split_spread(table, SplitSpreadsSettings())
    assert len(parts) == 2
    fold = parts[0].shape[1]
    seam = pad + left.shape[1]
    assert abs(fold - seam) < 0.05 * left.shape[1]  # in the blank margins between the two pages


def test_single_pages_are_not_split():
    for name in ("EHRI-DR-19390519-US_04.jpg", "phototest.tif"):
        assert len(split_spread(_grey(PAGES / name), SplitSpreadsSettings())) == 1


@pytest.mark.parametrize("quarter", [1, 3])
def test_a_single_page_lying_on_its_side_is_not_a_spread(quarter):
    """Landscape-shaped, and the gap between two paragraphs is an empty band down its middle: it was split
    as a spread, and `--profile auto` took it for a printed book."""
    sideways = np.ascontiguousarray(np.rot90(_grey(PAGES / "EHRI-DR-19390519-US_04.jpg"), quarter))
    assert len(split_spread(sideways, SplitSpreadsSettings())) == 1
    assert kind_of_page(sideways) != "printed-book"


def test_auto_takes_only_a_spread_beyond_doubt_for_a_printed_book():
    """A landscape sheet of two columns has an empty band down its middle too: `--profile auto` took it for a
    spread and split it into two pages, its title cut in half. `printed-book` still splits at such a band (an
    archivist says the scans are of open books); `auto` wants a binding's shadow or inner margins of 7 letters."""
    from pipeline.stages.cleanup.measure import text_height
    from pipeline.stages.cleanup.spreads import find_fold

    page = _grey(PAGES / "EHRI-DR-19390519-US_03.jpg")
    letter = text_height(page)
    block = page[200:1900, 170:1370]  # typed text, without the scan's margins
    gap = np.full((block.shape[0], 4 * letter), 255, np.uint8)
    sheet = np.pad(np.hstack([block, gap, block]), 6 * letter, constant_values=255)
    assert 1.15 <= sheet.shape[1] / sheet.shape[0] <= 2.0  # landscape, as a spread is
    assert find_fold(sheet, SplitSpreadsSettings()) is not None and kind_of_page(sheet) != "printed-book"
    left, right = page, _grey(PAGES / "EHRI-DR-19390519-US_04.jpg")
    height = max(left.shape[0], right.shape[0])
    spread = np.hstack([np.pad(p, ((0, height - p.shape[0]), (0, 0)), constant_values=255) for p in (left, right)])
    assert kind_of_page(spread) == "printed-book"


def _newspaper() -> np.ndarray:
    """A page of four columns of Romanian text under a masthead (DejaVu Serif, Debian's fonts-dejavu-core)."""
    words = (PAGES.parent / "pages" / "phototest.gt.txt").read_text(encoding="utf-8").split() * 40
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", 22)
    image = Image.new("L", (2300, 3200), 255)
    draw = ImageDraw.Draw(image)
    draw.text((100, 40), "ZIARUL LOCAL", font=ImageFont.truetype(
        "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf", 60), fill=0)
    width, lines, line = 492, [], ""
    for word in words:
        if font.getlength(f"{line} {word}".strip()) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    for n, text in enumerate(lines[:4 * 96]):
        column, row = divmod(n, 96)
        draw.text((100 + column * (width + 40), 160 + row * 30), text, font=font, fill=0)
    return np.array(image)


@pytest.mark.parametrize("quarter", [1, 3])
def test_a_page_lying_on_its_side_is_not_taken_for_a_newspaper(quarter):
    """Its text lines were counted as columns: 12 of the corpus's 30 pages turned a quarter were given the
    newspaper profile by `--profile auto`, and read worse so (CER 0.026 -> 0.068 for a typescript)."""
    sideways = np.ascontiguousarray(np.rot90(_grey(PAGES / "EHRI-NISKO-19391112_DE_02.jpg"), quarter))
    assert kind_of_page(sideways) == "default"
    newspaper = _newspaper()
    assert kind_of_page(newspaper) == "newspaper"
    assert kind_of_page(np.ascontiguousarray(np.rot90(newspaper, quarter))) == "newspaper"


# --- resolution ----------------------------------------------------------------------------------------------

def test_a_low_resolution_scan_is_enlarged_for_ocr_only(tmp_path):
    page = _grey(PAGES / "EHRI-DR-19390519-US_04.jpg")
    small = cv2.resize(page, None, fx=0.45, fy=0.45, interpolation=cv2.INTER_AREA)  # ~135 dpi
    cleaned = clean_page(small, 135, CleanProfile(name="t"))
    assert cleaned.ocr_scale > 1.5
    assert cleaned.access.shape[:2] == small.shape[:2] or cleaned.crop_box  # the master's size is kept
    assert text_height(cleaned.ocr) >= 18

    path = tmp_path / "low.png"
    Image.fromarray(small).save(path, dpi=(135, 135))
    text = read_file(path, _options(tmp_path))[0].text.text
    assert character_error_rate(text, _truth("EHRI-DR-19390519-US_04.gt.txt")) <= 0.12


def test_large_letters_are_reduced_for_ocr_only(tmp_path):
    page = _grey(PAGES / "EHRI-DR-19390519-US_04.jpg")
    large = cv2.resize(page, None, fx=1.7, fy=1.7, interpolation=cv2.INTER_CUBIC)  # as scanned at ~500 dpi
    assert text_height(large) >= 1.25 * 25 * 1.2
    cleaned = clean_page(large, 500, CleanProfile(name="t"))
    assert cleaned.ocr_scale < 0.75  # 4060 px: reduced before the other steps (reduce_large_page)
    assert cleaned.access.shape[:2] == large.shape[:2]  # the master's size is kept
    assert 22 <= text_height(cleaned.ocr) <= 28

    path = tmp_path / "large.png"
    Image.fromarray(large).save(path, dpi=(500, 500))
    text = read_file(path, _options(tmp_path))[0].text.text
    assert character_error_rate(text, _truth("EHRI-DR-19390519-US_04.gt.txt")) <= 0.12


def test_specks_are_removed_before_the_letters_are_measured(tmp_path):
    """A blurred page speckled all over (10 % of its pixels): its letters measured 5 px among the specks, it was
    enlarged 4x, and Tesseract's layout analysis ran for minutes over the enlarged specks. The specks now go
    first, and the page keeps its size."""
    page = _render_page(tmp_path / "speckled.png", ["Registrul agricol al comunei Mihai Viteazu",
                                                    "volumul 3, poziția 17, anul 1958"], size=30, blur=3.2,
                        noise=160_000)
    profile = load_profile("default", CONFIGS_DIR)
    cleaned = clean_page(_grey(page), 300, profile)
    assert cleaned.steps[:2] == ("grey", "despeckle") and cleaned.ocr_scale == 1.0
    assert cv2.connectedComponents((cleaned.ocr < 128).astype(np.uint8))[0] < 500


def test_speckled_scans_are_told_from_clean_ones():
    """Salt-and-pepper noise on 1 % of the pixels is found on every real page; none of the clean pages, grain,
    JPEG noise and all, counts as speckled (the noisiest of the corpus's images has a quarter of the threshold)."""
    for path in sorted(PAGES.glob("*.[jtp][pin][gf]")):
        page = _grey(path)
        assert not is_speckled(page), path.name
        assert is_speckled(_speckled(page, 0.01)), path.name


def test_a_faded_page_is_no_speckled_page():
    """Faded typewriting (the ink keeping a third of its darkness) breaks into marks of a pixel or two where a
    speck's contrast is asked of it; those are pieces of strokes, not specks. Specks on it are still found."""
    for name in ("EHRI-NISKO-19391112_DE_02.jpg", "EHRI-DR-19431002-DK_02.jpg"):
        faded = _faded(_grey(PAGES / name))
        assert not is_speckled(faded), name
        assert is_speckled(_speckled(faded, 0.01)), name


def test_a_dithered_picture_is_no_speckled_page():
    """A halftone or dithered picture is dots of a pixel or two as well, but in one place: specks cover a page."""
    page = _grey(PAGES / "EHRI-DR-19390519-US_04.jpg")
    gradient = np.tile(np.linspace(60, 250, 900, dtype=np.float32), (900, 1)).astype(np.uint8)
    dithered = np.asarray(Image.fromarray(gradient).convert("1"), dtype=np.uint8) * 255  # Floyd-Steinberg
    top, left = (page.shape[0] - 900) // 2, (page.shape[1] - 900) // 2
    page[top:top + 900, left:left + 900] = dithered
    assert is_speckled(page[top:top + 900, left:left + 900])  # alone, the picture looks like noise
    assert not is_speckled(page)


def test_a_page_is_speckled_when_most_of_its_five_squares_are():
    """The verdict is the median square's, whichever squares are counted first and however early the counting
    stops: specks over the top or bottom band of a page reach two squares (the middles of two quarters), and
    reaching into the middle, three (the centre too)."""
    page = _grey(PAGES / "EHRI-NISKO-19391112_DE_02.jpg")
    noisy, middle = _speckled(page, 0.01), page.shape[0] // 2
    for two, three in ((slice(0, middle - SAMPLE_SIDE), slice(0, middle + SAMPLE_SIDE)),
                       (slice(middle + SAMPLE_SIDE, None), slice(middle - SAMPLE_SIDE, None))):
        for rows, speckled in ((two, False), (three, True)):
            partly = page.copy()
            partly[rows] = noisy[rows]
            assert is_speckled(partly) is speckled, (rows, speckled)


def test_letters_are_measured_through_specks():
    page = _grey(PAGES / "EHRI-DR-19390519-US_04.jpg")
    assert text_height(page) == 25
    assert 22 <= text_height(_speckled(page, 0.10)) <= 28  # 8 px before: the specks' height


def _very_faint(page: np.ndarray, contrast: float) -> np.ndarray:
    """`page` (grey) with its ink only `contrast` of its darkness against white paper (a faded carbon copy, a
    scan far too light), saved as a JPEG and read back: the noise of a real file, a few grey levels."""
    faint = (255 - (255 - page.astype(np.float32)) * contrast).round().astype(np.uint8)
    return cv2.imdecode(cv2.imencode(".jpg", faint, [cv2.IMWRITE_JPEG_QUALITY, 85])[1], cv2.IMREAD_GRAYSCALE)


@pytest.mark.parametrize("contrast", [0.04, 0.06])
def test_a_very_faint_page_is_measured_turned_and_straightened_as_a_dark_one(contrast):
    """Letters 10-15 grey levels darker than the paper: the usual ink bar (15 levels) kept only specks of JPEG
    noise. The letters measured 4-5 px, the page was enlarged 4x for Tesseract (three times its OCR time), and
    upside down or 3 degrees askew it was read so (CER 0.88 and 0.50 on US_02 at 0.06)."""
    page = _grey(PAGES / "EHRI-DR-19390519-US_04.jpg")
    faint = _very_faint(page, contrast)
    assert text_height(faint) == pytest.approx(text_height(page), abs=3)
    upright = clean_page(faint, 300, CleanProfile(name="t"))
    assert upright.ocr_scale == 1.0 and "resolution" not in upright.steps
    assert _cleaned_upright(faint, 2).ocr_scale == 1.0
    askew = rotate(page, 3.0, 255)  # the page lies 0.38 degrees askew itself
    dark_skew = clean_page(askew, 300, CleanProfile(name="t")).skew_angle
    faint_skew = clean_page(_very_faint(askew, contrast), 300, CleanProfile(name="t")).skew_angle
    assert faint_skew == pytest.approx(dark_skew, abs=0.1) and dark_skew == pytest.approx(3.38, abs=0.1)


def test_letters_measure_in_proportion_to_the_page_whatever_copy_they_are_measured_on():
    """Up to 3000 px a page's letters are measured on an exact copy of 2000 px (or on the page itself), larger
    pages on a copy averaged by whole blocks: either way the height comes back in the page's own pixels."""
    page = _grey(PAGES / "EHRI-DR-19390519-US_04.jpg")  # 2388 px long, letters of 25 px
    for factor in (0.75, 1.3, 1.5, 2.0, 2.6):  # 1791 px (the page itself) to 6209 px (blocks of 3)
        resized = cv2.resize(page, None, fx=factor, fy=factor,
                             interpolation=cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA)
        assert text_height(resized) == pytest.approx(25 * factor, rel=0.08), factor


def test_small_letters_keep_their_strokes_when_specks_are_removed():
    """On letters of ~9 px a 3 px median erases strokes: only the specks are replaced."""
    page = cv2.resize(_grey(PAGES / "EHRI-NISKO-19391112_DE_02.jpg"), None, fx=0.6, fy=0.6,
                      interpolation=cv2.INTER_AREA)
    assert text_height(page) < MEDIAN_MIN_TEXT_PX
    cleaned = despeckle(Work(access=page, ocr=_speckled(page, 0.03), dpi_scale=0.6), DespeckleSettings())
    assert cleaned is not None and cleaned.despeckled
    ink = page < 128
    kept = np.count_nonzero(ink & (cleaned.ocr < 128)) / np.count_nonzero(ink)
    median = np.count_nonzero(ink & (cv2.medianBlur(page, 3) < 128)) / np.count_nonzero(ink)
    assert kept > 0.97 and median < kept - 0.05  # the letters' ink stays
    assert not is_speckled(cleaned.ocr)


def test_a_page_reduced_to_half_or_less_is_averaged_in_two_steps_as_in_one():
    scan = _grey(PAGES / "EHRI-DR-19390519-US_04.jpg")
    page = cv2.resize(scan, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)  # as at 600 dpi: 50 px letters
    for factor in (0.4, 0.7):
        size = (round(page.shape[1] * factor), round(page.shape[0] * factor))
        once = cv2.resize(page, size, interpolation=cv2.INTER_AREA)
        reduced = reduce(page, size)
        assert reduced.shape == once.shape
        if factor > 0.5:
            assert np.array_equal(reduced, once)  # reduced by less than half: one area average, as before
        else:
            assert np.abs(reduced.astype(int) - once).mean() < 1 and text_height(reduced) == text_height(once)


def test_a_600_dpi_page_is_reduced_before_it_is_straightened():
    """A 600 dpi scan is read at about half its size: its OCR image is reduced first, so straightening,
    flattening and measuring work on a quarter of the pixels. People still see the page at full size."""
    colour = np.array(Image.open(PAGES / "EHRI-DR-19390519-US_04.jpg").convert("RGB"))
    big = cv2.resize(colour, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)  # 4776 px, 50 px letters
    skewed = rotate(big, 1.2, (255, 255, 255))
    cleaned = clean_page(skewed, 600, CleanProfile(name="t"))
    assert cleaned.steps[:3] == ("grey", "reduce_large_page", "deskew")
    assert abs(cleaned.skew_angle - (1.2 + estimate_skew(to_grey(colour), 5.0))) <= 0.3  # the scan's own skew too
    assert cleaned.access is skewed and cleaned.page_image().shape == skewed.shape  # turned straight, not reduced
    assert 0.45 <= cleaned.ocr_scale <= 0.55 and 22 <= text_height(cleaned.ocr) <= 28
    assert all(abs(o - a * cleaned.ocr_scale) <= 1 for o, a in zip(cleaned.ocr.shape, skewed.shape[:2]))


def test_a_600_dpi_page_on_a_scanner_bed_is_cut_alike_in_both_images():
    """The bed is found on the reduced OCR image, and the access image is cut by the same box at its own size."""
    page = cv2.resize(_grey(PAGES / "EHRI-DR-19390519-US_03.jpg"), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    height, width = page.shape
    bed = np.random.default_rng(7).normal(35, 8, (height + 600, width + 520)).clip(0, 255).astype(np.uint8)
    bed[280:280 + height, 240:240 + width] = page  # off-centre on a dark, noisy bed
    cleaned = clean_page(bed, 600, CleanProfile(name="t"))
    assert "reduce_large_page" in cleaned.steps and cleaned.ocr_scale < 0.6
    left, top, right, bottom = cleaned.crop_box
    margin = 80  # about 2 mm at 600 dpi, and a pixel of the reduced image
    assert 240 - margin <= left <= 240 and 280 - margin <= top <= 280
    assert 240 + width <= right <= 240 + width + margin and 280 + height <= bottom <= 280 + height + margin
    assert cleaned.page_image().shape == (bottom - top, right - left)
    assert all(abs(o - a * cleaned.ocr_scale) <= 2 for o, a in zip(cleaned.ocr.shape, (bottom - top, right - left)))
    edge = np.concatenate([cleaned.ocr[:, :5].ravel(), cleaned.ocr[:, -5:].ravel(),
                           cleaned.ocr[:5].ravel(), cleaned.ocr[-5:].ravel()])
    assert np.mean(edge < 128) < 0.01  # what is left of the bed is white for Tesseract


def test_large_headings_over_small_print_are_not_reduced():
    page = _grey(PAGES / "EHRI-DR-19390519-US_04.jpg")
    width = page.shape[1]
    headings = cv2.resize(page[:700], None, fx=2.2, fy=2.2, interpolation=cv2.INTER_CUBIC)[:, :2 * width]
    small_print = cv2.resize(page, None, fx=0.72, fy=0.72, interpolation=cv2.INTER_AREA)
    sheet = np.full((headings.shape[0] + small_print.shape[0], headings.shape[1]), 255, np.uint8)
    sheet[:headings.shape[0]] = headings
    sheet[headings.shape[0]:, :small_print.shape[1]] = small_print
    assert text_height(sheet) > 1.25 * 25  # the large letters hold most of the ink
    cleaned = clean_page(sheet, 300, CleanProfile(name="t"))
    assert "resolution" not in cleaned.steps and cleaned.ocr_scale == 1.0  # the small print keeps its size


def test_small_copies_are_shared_read_only_and_not_kept_past_their_page():
    page = _grey(PAGES / "EHRI-DR-19390519-US_04.jpg")
    small, factor = downscale(page, 1000)
    assert downscale(page, 1000)[0] is small and factor > 1  # a second step gets the same copy
    assert downscale(page.copy(), 1000)[0] is not small  # equal pixels, another array: measured anew
    with pytest.raises(ValueError):
        small[0, 0] = 0  # no step may draw on a copy others use
    forget_page()
    assert downscale(page, 1000)[0] is not small
    alive = weakref.ref(page)
    del page
    assert alive() is None  # remembering its copy keeps no page in memory


def test_whole_block_copies_average_the_page_up_to_its_edges():
    """`shrink_by` averages whole blocks (OpenCV's fast path); the blocks the page's edge cuts short are averaged
    over the pixels they have, so a dark strip along the last columns stays as dark in the copy."""
    rng = np.random.default_rng(3)
    page = rng.integers(0, 256, (1001, 703), dtype=np.uint8)
    page[:, -2:] = 0  # a dark strip narrower than a block
    copy = shrink_by(page, 3)
    assert copy.shape == (334, 235) and copy.dtype == np.uint8
    assert abs(int(copy[5, 7]) - page[15:18, 21:24].mean()) <= 0.5
    assert abs(int(copy[-1, 100]) - page[999:, 300:303].mean()) <= 0.5  # the short last row of blocks (2 rows)
    assert np.all(copy[:-1, -1] == 0)  # the last column of blocks holds only the strip's 2 columns
    colour = np.dstack([page, page, page])
    assert np.array_equal(shrink_by(colour, 3)[:, :, 1], copy)


def test_percentiles_of_bytes_are_numpy_s_to_the_last_bit():
    """The histogram's percentile stands in for np.percentile on measuring copies: every verdict taken on it
    must be the one NumPy's would give, so the value must be the same float, not only a close one."""
    page = downscale(_grey(PAGES / "EHRI-BF-19380810_EN_01.jpg"), 1000)[0]
    rng = np.random.default_rng(5)
    samples = [page, page[::3, 1::2], page[page > 128], rng.integers(0, 256, 7, dtype=np.uint8),
               rng.integers(200, 203, 1000, dtype=np.uint8), np.array([17], dtype=np.uint8)]
    # Few values far apart: the two values mixed differ, where NumPy's two ways of mixing differ in the last bit.
    samples += [rng.integers(0, 256, size, dtype=np.uint8) for size in rng.integers(2, 40, 50)]
    for values in samples:
        for q in (0, 5, 10, 33.3, 50, 90, 95, 99.9, 100, *rng.uniform(0, 100, 20)):
            assert percentile_of_bytes(values, q).hex() == float(np.percentile(values, q)).hex(), (values.shape, q)
        assert percentile_of_bytes(values, 50) == np.median(values)
    with pytest.raises(ValueError):
        percentile_of_bytes(np.array([], dtype=np.uint8), 50)


def test_the_dark_pixels_are_those_numpy_s_percentile_of_the_contrast_gives():
    """The letters' dark pixels (show-through left out) come from a histogram of the contrast, which counts the
    contrast below 0 as 0; they must be the pixels the signed contrast and np.percentile give, also where the
    percentile lies at 0 or below (a page whose "ink" is mostly lighter than its surroundings)."""
    def by_numpy(small, ink):
        contrast = cv2.blur(small, (_block(small),) * 2).astype(np.int16) - small
        return contrast >= DARK_CORE * np.percentile(contrast[ink > 0], 90)

    pages = [downscale(_grey(PAGES / name), 1200)[0]
             for name in ("EHRI-BF-19380810_EN_01.jpg", "EHRI-ET-JMP020_02.jpg", "EHRI-DR-19390519-US_04.jpg")]
    for small in pages:
        ink = ink_mask(small)
        assert np.array_equal(_dark_pixels(small, ink), by_numpy(small, ink))
    small = pages[0]
    # "Ink" where the contrast is 0 or below: so is its percentile, which the histogram cannot give.
    lighter = (cv2.blur(small, (_block(small),) * 2) <= small).astype(np.uint8) * 255
    assert np.array_equal(_dark_pixels(small, lighter), by_numpy(small, lighter))
    assert not _dark_pixels(small, np.zeros_like(small)).any()


def test_marks_flags_reach_their_pixels_as_numpy_s_lookup_gives_them():
    """`marked` looks the labels up in bands of rows; every pixel, in the last short band too, gets its flag."""
    ink = ink_mask(downscale(_grey(PAGES / "EHRI-NISKO-19391112_DE_02.jpg"), 1000)[0])
    count, labels, stats, _ = marks_of(ink)
    assert labels.shape[0] % MARKED_BAND_ROWS != 0
    small = stats[:, cv2.CC_STAT_AREA] <= 2
    assert np.array_equal(marked(small, labels), small[labels]) and small[labels].any()
    heights = stats[:, cv2.CC_STAT_HEIGHT].astype(np.int32)
    assert np.array_equal(marked(heights, labels), heights[labels])


def test_marks_are_labelled_as_opencv_s_default_labelling_does():
    """`marks_of` picks a faster labelling algorithm; the marks, their numbers, boxes and centres stay the same."""
    page = _grey(PAGES / "EHRI-NISKO-19391112_DE_02.jpg")
    ink = ink_mask(downscale(page, 2000)[0])
    count, labels, stats, centres = marks_of(ink)
    expected = cv2.connectedComponentsWithStats(ink, connectivity=8)
    assert count == expected[0] > 1000
    assert np.array_equal(labels, expected[1]) and np.array_equal(stats, expected[2])
    assert np.array_equal(centres, expected[3])


# --- the grey or black-and-white choice, profiles --------------------------------------------------------------

def test_soft_typewritten_strokes_stay_grey_and_crisp_print_is_binarized():
    page = _grey(PAGES / "EHRI-DR-19390519-US_04.jpg")
    # as a 150 dpi scan slightly out of focus would show it
    soft = cv2.GaussianBlur(cv2.resize(page, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), (0, 0), 1.0)
    crisp = _grey(PAGES / "phototest.tif")
    assert clean_page(soft, 300, CleanProfile(name="t")).keep_grey is True
    always_clean = CleanProfile(name="t", binarize={"keep_clean_scans": False})
    binarized = clean_page(crisp, 300, always_clean)
    assert binarized.keep_grey is False and set(np.unique(binarized.ocr)) <= {0, 255}


def test_stroke_softness_is_rim_pixels_per_core_pixel():
    page = _grey(PAGES / "EHRI-DR-19390519-US_04.jpg")
    soft = cv2.GaussianBlur(cv2.resize(page, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), (0, 0), 1.0)
    assert stroke_softness(soft) > SOFT_RIM_RATIO > stroke_softness(_grey(PAGES / "phototest.tif"))
    strokes = np.full((400, 400), 255, np.uint8)
    strokes[100:300, 100:110] = 0  # a bar of 2000 core pixels
    strokes[100:300, [99, 110]] = 160  # with a grey rim of 400 pixels along its long sides
    assert stroke_softness(strokes) == pytest.approx(400 / 2000)
    assert stroke_softness(np.full((400, 400), 250, np.uint8)) == float("inf")  # no ink: soft, nothing to threshold


def test_stroke_softness_counts_rims_across_the_seams_of_its_row_bands():
    # A bar of 10 core rows ending on the last row of the first band, its grey rim on the first row of the next:
    # the rim is near ink only if the bands see across the seam.
    page = np.full((3 * SOFTNESS_BAND_ROWS, 400), 255, np.uint8)
    seam = SOFTNESS_BAND_ROWS
    page[seam - 10:seam, 100:150] = 0  # 500 core pixels
    page[seam, 100:150] = 160  # 50 rim pixels, below the seam
    page[seam - 11, 100:150] = 160  # 50 more above the bar, inside the first band
    assert stroke_softness(page) == pytest.approx(100 / 500)


def test_an_already_clean_scan_goes_to_tesseract_as_scanned():
    clean = np.array(Image.open(PAGES / "EHRI-DR-19390519-US_04.jpg"))  # white, even paper, no border
    cleaned = clean_page(clean, 300, CleanProfile(name="t"))
    assert cleaned.steps[-1] == "already_clean" and cleaned.ocr.shape == clean.shape  # not cropped
    assert set(cleaned.steps) <= {"grey", "deskew", "already_clean"}  # at most straightened (0.4° here)
    # Read as scanned, the scan's own pixels (not flattened or black and white); skewed 0.38°, so little that
    # only the page people see is straightened and the reading is turned onto it.
    assert cleaned.as_scanned and np.array_equal(cleaned.ocr, clean)
    assert cleaned.skew_angle == pytest.approx(0.38, abs=0.1) and cleaned.text_turn == -cleaned.skew_angle
    straight = clean_page(rotate(clean, -cleaned.skew_angle, 255), 300, CleanProfile(name="t"))
    assert straight.steps == ("grey", "already_clean")
    aged = cv2.cvtColor(clean, cv2.COLOR_GRAY2RGB)
    aged[clean > 128] = (225, 205, 160)  # the same page on yellowed paper is cleaned
    assert "already_clean" not in clean_page(aged, 300, CleanProfile(name="t")).steps


def test_the_quick_paper_test_turns_away_only_pages_the_clean_paper_verdict_turns_away():
    """`paper_clearly_dark` spares a page `already_clean`'s sample of the colour scan when the OCR image's paper
    is clearly too dark: it may say so only of a page that verdict would not pass, and must say so of dark paper."""
    clean = np.array(Image.open(PAGES / "EHRI-DR-19390519-US_04.jpg"))
    assert already_clean(clean) and not paper_clearly_dark(clean)
    for name in ("EHRI-DR-19390519-US_03.jpg", "EHRI-NISKO-19391112_DE_02.jpg", "EHRI-NISKO-19391112_DE_04.jpg",
                 "EHRI-BF-19380810_EN_01.jpg", "EHRI-DR-19431002-DK_02.jpg", "EHRI-ET-JMP020_02.jpg",
                 "8071_093.3B.tif"):
        with Image.open(PAGES / name) as image:
            page = np.array(image if image.mode in ("L", "RGB") else image.convert("L"))  # 8071 is bilevel
        assert not paper_clearly_dark(to_grey(page)) or not already_clean(page), name
    aged = cv2.cvtColor(clean, cv2.COLOR_GRAY2RGB)
    aged[clean > 128] = (225, 205, 160)  # yellowed paper
    assert paper_clearly_dark(to_grey(aged)) and not already_clean(aged)
    # Paper a level under the clean bar is not clean, but not clearly dark: the full verdict decides it.
    dimmed = np.where(clean > 128, clean.astype(np.int16) - 21, clean).clip(0, 255).astype(np.uint8)
    assert not already_clean(dimmed) and not paper_clearly_dark(dimmed)


def test_a_clean_scan_whose_letters_need_another_size_is_only_resized():
    """At 600 dpi (the page enlarged twice) and at 150 dpi (reduced to half), the clean page of the test above
    is resized to Tesseract's letter size from the scan itself and otherwise read as scanned: not flattened,
    evened out or made black and white."""
    clean = np.array(Image.open(PAGES / "EHRI-DR-19390519-US_04.jpg"))
    for scanned, dpi in ((cv2.resize(clean, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC), 600),
                         (cv2.resize(clean, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), 150)):
        cleaned = clean_page(scanned, dpi, CleanProfile(name="t"))
        assert cleaned.steps[-1] == "already_clean" and {"resolution", "reduce_large_page"} & set(cleaned.steps)
        assert "normalize_illumination" not in cleaned.steps and cleaned.keep_grey
        assert cleaned.ocr_scale == pytest.approx(300 / dpi, rel=0.1) and 20 <= cleaned.text_height <= 30
        # One resampling of the scan's own pixels; skewed 0.38°, read unstraightened as the gentle path reads it
        assert np.array_equal(cleaned.ocr, resize(scanned, cleaned.ocr_scale))
        assert cleaned.skew_angle == pytest.approx(0.38, abs=0.1) and cleaned.text_turn == -cleaned.skew_angle
    # In black and white, the enlarged page's stepped edges go through the whole cleanup (its median) as before.
    _, black_and_white = cv2.threshold(scanned, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    cleaned = clean_page(black_and_white, 150, CleanProfile(name="t"))
    assert "already_clean" not in cleaned.steps and {"resolution", "denoise"} <= set(cleaned.steps)


def test_a_clean_scan_upside_down_is_only_turned():
    """The clean page of the tests above, scanned upside down: turned over and otherwise read as scanned."""
    clean = np.array(Image.open(PAGES / "EHRI-DR-19390519-US_04.jpg"))
    cleaned = clean_page(np.ascontiguousarray(np.rot90(clean, 2)), 300, CleanProfile(name="t"))
    assert cleaned.turn == 180 and cleaned.steps[-1] == "already_clean" and cleaned.keep_grey
    assert "normalize_illumination" not in cleaned.steps and not cleaned.as_scanned  # the file itself is not upright
    assert np.array_equal(cleaned.ocr, clean) and cleaned.text_turn == -cleaned.skew_angle
    # At 600 dpi it is reduced before it is turned over: still read from one resampling of the scan turned upright.
    large = cv2.resize(clean, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    for quarters in (0, 2):
        cleaned = clean_page(np.ascontiguousarray(np.rot90(large, quarters)), 600, CleanProfile(name="t"))
        assert cleaned.turn == 90 * quarters and cleaned.steps[-1] == "already_clean"
        assert "reduce_large_page" in cleaned.steps and np.array_equal(cleaned.ocr, resize(large, cleaned.ocr_scale))


def test_every_shipped_profile_loads_and_auto_picks_one_per_page():
    names = {"default", "gentle", "typewritten", "printed-book", "newspaper", "photocopy", "handwritten-mixed"}
    for name in names:
        assert load_profile(name, CONFIGS_DIR).name == name
    auto = load_profile("auto", CONFIGS_DIR)
    assert {c.name for c in auto.candidates} >= names
    assert kind_of_page(np.array(Image.open(PAGES / "EHRI-DR-19390519-US_04.jpg"))) == "default"
    assert kind_of_page(_grey(PAGES / "phototest.tif")) == "photocopy"
    # A black-and-white scan of a 300 dpi page, larger than the copy measured: its letters' edges averaged grey
    # there, and it was never a photocopy.
    typescript = _grey(PAGES / "EHRI-DR-19390519-US_04.jpg")
    assert max(typescript.shape) > 2000
    assert kind_of_page(np.where(typescript > 140, 255, 0).astype(np.uint8)) == "photocopy"


# --- quality, debug images, language -------------------------------------------------------------------------

def test_pages_carry_a_quality_score_and_bad_ones_are_flagged(tmp_path):
    good = read_file(PAGES / "phototest.tif", _options(tmp_path))[0]
    assert good.quality >= 0.8 and not good.needs_review
    noise = np.random.default_rng(3).integers(0, 256, (900, 700), dtype=np.uint8)
    path = tmp_path / "noise.png"
    Image.fromarray(noise).save(path, dpi=(300, 300))
    bad = read_file(path, _options(tmp_path))[0]
    assert bad.quality < 0.6 and bad.needs_review


def test_ocr_json_and_debug_dir_show_every_cleanup_step(run_cli, tmp_path):
    debug = tmp_path / "debug"
    result = run_cli("ocr", str(PAGES / "phototest-rotated-180.png"), "--json", "--debug-dir", str(debug))
    assert result.exit_code == 0, result.output
    page = json.loads(result.output)["pages"][0]
    assert page["turn"] == 180 and "turn_over" in page["cleanup"]
    assert {"quality", "needs_review", "languages", "cleanup_seconds", "ocr_seconds"} <= set(page)
    # Each step's seconds (only the total was given): they add up to the cleanup's, steps that did nothing too.
    steps = page["cleanup_step_seconds"]
    assert {"turn_sideways", "deskew", "turn_over", "crop_borders"} <= set(steps)
    assert abs(sum(steps.values()) - page["cleanup_seconds"]) < 0.001 and "whole_scan" in steps
    written = sorted(p.name for p in debug.iterdir())
    assert written[0] == "01_grey.png" and any("turn_over" in name for name in written)
    assert len(written) == len(page["cleanup"])
    # A clean page, read as scanned: the last image is the one Tesseract reads (the scan, not straightened).
    clean = tmp_path / "clean"
    result = run_cli("ocr", str(PAGES / "EHRI-DR-19390519-US_04.jpg"), "--json", "--debug-dir", str(clean))
    assert "already_clean" in json.loads(result.output)["pages"][0]["cleanup"]
    written = sorted(clean.iterdir())
    assert [p.name for p in written] == ["01_grey.png", "02_deskew.png", "03_already_clean.png"]
    assert np.array_equal(np.array(Image.open(written[-1])), _grey(PAGES / "EHRI-DR-19390519-US_04.jpg"))
    # Turned back to under GENTLE_MAX_SKEW, it is read and shown as scanned: the straightening measured and left
    # aside leaves no image (02_deskew.png looked as if Tesseract had read the page straightened).
    nearly_straight = tmp_path / "nearly-straight.png"
    Image.open(PAGES / "EHRI-DR-19390519-US_04.jpg").convert("L").rotate(-0.15, Image.BICUBIC, fillcolor=255).save(
        nearly_straight, dpi=(300, 300))
    result = run_cli("ocr", str(nearly_straight), "--json", "--debug-dir", str(tmp_path / "nearly"))
    assert json.loads(result.output)["pages"][0]["cleanup"] == ["grey", "already_clean", "read_as_scanned"]
    assert sorted(p.name for p in (tmp_path / "nearly").iterdir()) == ["01_grey.png", "03_already_clean.png"]


def test_language_of_text_single_and_mixed():
    assert languages_of("Primăria municipiului Cluj-Napoca a eliberat autorizația de construire pentru "
                        "clădirea din strada Memorandumului, conform hotărârii consiliului local.") == ["ron"]
    mixed = languages_of(
        "Primăria municipiului Cluj-Napoca a eliberat autorizația de construire pentru clădirea din strada "
        "Memorandumului. A polgármesteri hivatal kiadta az építési engedélyt a Memorandum utcai épületre, "
        "a helyi tanács határozata alapján.")
    assert set(mixed) == {"ron", "hun"}


def test_cyrillic_misreadings_on_a_latin_page_do_not_make_it_ukrainian():
    # The first reading (English and Ukrainian models) of a real Slovak typescript, EHRI-BF-19380423_SK_02:
    # the Cyrillic model turned some of its words into Cyrillic letters, and the page was read as pol+ukr.
    first_reading = (
        "ra Dria 28. пагса 1938 ргі51і до mojho obchodu traja\n"
        "uniformovani muZi, 2 ktorych bol jeden od Gestapo,druhy od\n"
        "NSKK.,iS51i so mnou do bytu,kde vSetko velmi dékladne рорге-\n"
        "hliadali а vzali mi_oproti potvrdeniu 240 pengé у bankov -\n"
        "касю, 190 8 у bankovkéch, 21 amer./USA/ doldrov, 130 S.strie-\n"
        "bornych, 1 zlaté néramkové hodinky, 5 zlatych prstenov, 1 par\n"
        "nausnic a 19 репеб striebornych,\n"
        "качанів Podotykam,Ze uvedeného dna bez. potvrdenia mi vza-\n"
        "li 1 revolver,zbrojny list,cestowmy pas eskos lovensky,m6\n"
        "a mojej р шапіеїку а iné veci.Podotykam,%e ja i moja тапйеїка\n\n"
        "sme mali cestovné pasy vystavené okresnym йгадот у Samorine\n"
        "у г.1930 а posledne predi%ené у r.1935 cener4invm Копомідбот\n")
    assert "ukr" not in languages_of(first_reading)
    # Cyrillic languages are still found, alone or together.
    ukrainian = ("Виконавчий комітет міської ради вирішив надати дозвіл на будівництво житлового будинку по "
                 "вулиці Шевченка, відповідно до рішення сесії від 12 травня 1975 року.")
    russian = ("Исполнительный комитет городского совета постановил выдать разрешение на строительство жилого "
               "дома по улице Шевченко согласно решению сессии.")
    assert languages_of(ukrainian) == ["ukr"]
    assert set(languages_of(ukrainian + " " + russian)) == {"ukr", "rus"}


def test_lang_auto_finds_both_languages_of_a_page_in_two_halves(tmp_path):
    """A Romanian notice above a denser Polish one: the first reading took the densest third of the page, all
    Polish, and the page was read with Polish alone (the Romanian half without its ș, ț, ă)."""
    from PIL import ImageDraw, ImageFont

    romanian = ["Primăria comunei Florești a aprobat cererea locuitorilor",
                "pentru repararea drumului comunal și a podului de lângă școală.",
                "Consiliul local hotărăște ca lucrările să înceapă în luna mai,",
                "iar cheltuielile să fie suportate din bugetul local al comunei.",
                "Cetățenii sunt rugați să respecte semnalizarea din zona șantierului."]
    polish = ["Urząd Miejski w Przemyślu informuje mieszkańców, że w związku",
              "z remontem ulicy Mickiewicza ruch zostanie czasowo zamknięty.",
              "Prace potrwają do końca czerwca, a objazd będzie oznakowany.",
              "Mieszkańcy mogą składać wnioski o wydanie zaświadczeń w sekretariacie",
              "urzędu od poniedziałku do piątku w godzinach od ósmej do piętnastej.",
              "Rada Miejska podjęła uchwałę w sprawie budżetu na rok następny",
              "oraz w sprawie zmiany planu zagospodarowania przestrzennego miasta.",
              "Wszelkie informacje można uzyskać w biurze obsługi interesantów."]
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 40)
    page = Image.new("L", (2480, 3508), 255)
    draw = ImageDraw.Draw(page)
    for number, line in enumerate(romanian):
        draw.text((200, 250 + number * 110), line, font=font, fill=0)
    for number, line in enumerate(polish * 2):
        draw.text((200, 1500 + number * 62), line, font=font, fill=0)
    page.save(tmp_path / "notices.png", dpi=(300, 300))
    read = read_file(tmp_path / "notices.png", _options(tmp_path, languages="auto"))[0]
    assert set(read.languages.split("+")) == {"ron", "pol"}
    assert "hotărăște" in read.text.text and "mieszkańców" in read.text.text


def test_the_language_sample_of_a_page_of_one_line_holds_the_line_wherever_it_is():
    """The sample's band edges moved to empty rows near them, past a lone line: 14 of 21 places of the line gave
    a sample without ink, and the page was read as English (a Ukrainian file cover, a divider sheet)."""
    from pipeline.stages.language import BANDS, FIRST_READING_SHARE, spread_bands

    for top in range(100, 3400, 37):
        page = np.full((3508, 2480), 255, np.uint8)
        page[top:top + 40, 200:2000] = 0
        assert np.count_nonzero(spread_bands(page, FIRST_READING_SHARE, BANDS) < 128) == 40 * 1800, top


def test_lang_auto_reads_a_page_of_one_ukrainian_line_in_ukrainian(tmp_path):
    from PIL import ImageDraw, ImageFont

    page = Image.new("L", (2480, 3508), 255)
    ImageDraw.Draw(page).text((200, 600), "Виконавчий комітет Луцької міської ради", fill=0,
                              font=ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 48))
    page.save(tmp_path / "cover.png", dpi=(300, 300))
    read = read_file(tmp_path / "cover.png", _options(tmp_path, languages="auto"))[0]
    assert read.languages.split("+")[0] == "ukr" and "Луцької" in read.text.text


def test_lang_auto_reads_a_romanian_page_with_romanian(tmp_path):
    page = read_file(SAMPLES / "Clujul.jpg", _options(tmp_path, languages="auto"))[0]
    assert page.languages.split("+")[0] == "ron"
    assert "geografică" in page.text.text.lower()
