"""Two-page spread detection: spreads found, where they are cut, and single pages wrongly split.

What it measures
    Spreads: each of a few corpus pages is put beside a copy of itself, as a book or register lies open, in
    three gutter styles (nothing, a soft shadow darkening towards the fold, a dark binding line), each once as
    it is and once lying on a dark, noisy table. `find_fold` (the detector of `printed-book` and
    `--profile auto`) must find the fold; a fold that falls on ink of the page beside it cuts text.
    Single pages: every image of the corpus (kind=ocr and edge), upright and turned a quarter each way, must
    not be split; the corpus's real magazine spread (UNLV 8071_093.3B) must be, and is counted apart.
    Two-column sheets: each of the spread pages cut across its middle and its halves set side by side, 3, 5 and
    6 letter heights apart, as a landscape page of two columns is printed (with a heading across both, and
    without): one sheet, not to be split by `--profile auto` (spreads.clear_fold), which takes an image for a
    spread only beyond doubt; `printed-book` (find_fold) splits narrower gutters, at the archivist's word.
    Every count is given for both.

How to run (from the repository root; ~1 minute on 2 cores):
    .venv/bin/python bench/spreads.py [--corpus DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.profiles import SplitSpreadsSettings  # noqa: E402
from pipeline.stages.cleanup.measure import text_height  # noqa: E402
from pipeline.stages.cleanup.spreads import clear_fold, find_fold  # noqa: E402
from pipeline.stages.load import load_page  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
SPREAD_PAGES = ("edge/romanian-ocr/Clujul.jpg", "ocr/ocrd-kant/kant_aufklaerung_1784_0017.tif",
                "ocr/ehri/EHRI-DR-19390519-US_03.jpg", "ocr/ehri/EHRI-NISKO-19391112_DE_02.jpg",
                "ocr/ehri/EHRI-ET-JMP020_01.jpg", "ocr/rendered/pol_dev_a.jpg")
REAL_SPREADS = {"8071_093.3B"}
FORMATS = {".jpg": "jpeg", ".png": "png", ".tif": "tiff"}
INK = 100  # darker than this is ink (or the dark edge of a scan)


def open_spread(page: np.ndarray, gutter: str, on_table: bool,
                rng: np.random.Generator) -> tuple[np.ndarray, int, int]:
    """The page beside a copy of itself, the x of the seam between them, and the table's width around them."""
    height, width = page.shape
    left, right = page.copy(), page.copy()
    if gutter == "shadow":
        ramp = np.linspace(1.0, 0.55, int(0.06 * width))
        left[:, width - len(ramp):] = (left[:, width - len(ramp):] * ramp).astype(np.uint8)
        right[:, :len(ramp)] = (right[:, :len(ramp)] * ramp[::-1]).astype(np.uint8)
    spread = np.hstack([left, right])
    if gutter == "line":
        spread[:, width - 2: width + 2] = 60
    pad = int(0.04 * height) if on_table else 0
    table = rng.normal(35, 8, (height + 2 * pad, 2 * width + 2 * pad)).clip(0, 255).astype(np.uint8)
    table[pad:pad + height, pad:pad + 2 * width] = spread
    return table, pad + width, pad


def cuts_text(pages: np.ndarray, fold: int) -> bool:
    """Whether a cut at column `fold` of the pages (the table around them left out) goes through text: more
    than 1 % ink beside it, where a column of text has ~10 % and a blank margin's specks well under 1 %.
    Columns dark over most of their height are a binding line or a scan's dark edge, not text."""
    near = pages[:, max(0, fold - 3): fold + 4] < INK
    text_columns = near[:, near.mean(axis=0) < 0.5]
    return bool(text_columns.size and text_columns.mean() > 0.01)


def two_column_sheet(page: np.ndarray, gap_letters: float, heading: bool) -> np.ndarray:
    """The page's text block twice side by side, `gap_letters` letter heights apart, in margins of 6 letters: the
    two columns of one landscape sheet; with `heading`, a bar of letter height across both columns' tops, as a
    title runs across them."""
    letter = text_height(page) or 20
    rows, columns = np.nonzero(page < INK)
    inner = (rows > 0.02 * page.shape[0]) & (rows < 0.98 * page.shape[0]) & (columns > 0.02 * page.shape[1]) \
        & (columns < 0.98 * page.shape[1])  # a scan's dark edge is no text
    block = page[rows[inner].min():rows[inner].max() + 1, columns[inner].min():columns[inner].max() + 1]
    gap = np.full((block.shape[0], int(gap_letters * letter)), 255, np.uint8)
    sheet = np.hstack([block, gap, block])
    if heading:
        band = np.full((3 * letter, sheet.shape[1]), 255, np.uint8)
        band[letter:2 * letter, sheet.shape[1] // 4: 3 * sheet.shape[1] // 4] = 30  # a line of bold capitals
        sheet = np.vstack([band, sheet])
    return np.pad(sheet, 6 * letter, constant_values=255)


def measure_two_column_sheets(corpus: Path) -> None:
    split = auto = total = 0
    for relative in SPREAD_PAGES:
        page = np.array(Image.open(corpus / relative).convert("L"))
        for gap in (3, 5, 6):
            for heading in (False, True):
                sheet = two_column_sheet(page, gap, heading)
                if not 1.15 <= sheet.shape[1] / sheet.shape[0] <= 2.0:
                    continue  # not landscape-shaped: no spread to tell it from
                total += 1
                fold, sure = find_fold(sheet, SplitSpreadsSettings()), clear_fold(sheet, SplitSpreadsSettings())
                split += fold is not None
                auto += sure
                print(f"  {Path(relative).stem[:28]:28} gap {gap} letters{' heading' if heading else '':8} "
                      f"printed-book: {'SPLIT' if fold else 'one page'}, auto: {'SPLIT' if sure else 'one page'}")
    print(f"two-column sheets split: printed-book {split}, auto {auto} of {total}")


def measure_spreads(corpus: Path) -> None:
    rng = np.random.default_rng(3)
    found = cut = total = sure = 0
    for relative in SPREAD_PAGES:
        page = np.array(Image.open(corpus / relative).convert("L"))
        for gutter in ("none", "shadow", "line"):
            for on_table in (False, True):
                image, seam, pad = open_spread(page, gutter, on_table, rng)
                fold = find_fold(image, SplitSpreadsSettings())
                total += 1
                sure += clear_fold(image, SplitSpreadsSettings())
                where = "not found"
                if fold is not None:
                    found += 1
                    through = cuts_text(image[pad:image.shape[0] - pad], fold)
                    cut += through
                    where = f"fold {fold} (seam {seam})" + (" CUTS TEXT" if through else "")
                print(f"  {Path(relative).stem[:28]:28} {gutter:6} {'on table' if on_table else 'as is':8} {where}")
    print(f"spreads found: {found} of {total}; cut through text: {cut}; beyond doubt (auto): {sure}")


def measure_single_pages(corpus: Path) -> None:
    split = total = auto = 0
    for path in sorted(corpus.rglob("*")):
        if path.suffix.lower() not in FORMATS or ".gt" in path.name or "bin-gt" in path.name:
            continue
        try:
            pixels = load_page(path, FORMATS[path.suffix.lower()], 0, 10**9, 300).pixels
        except Exception:  # noqa: BLE001 - a file the loader refuses is no page to measure
            continue
        for quarter in (0, 1, 3):
            turned = np.ascontiguousarray(np.rot90(pixels, quarter))
            fold, sure = find_fold(turned, SplitSpreadsSettings()), clear_fold(turned, SplitSpreadsSettings())
            if path.stem in REAL_SPREADS:
                outcome = f"split at {fold}" if fold else "NOT split"
                print(f"  real spread {path.name} turned {90 * quarter}: {outcome} (auto: {'split' if sure else 'not'})")
                continue
            total += 1
            auto += sure
            if fold is not None:
                split += 1
                print(f"  SPLIT: {path.name} turned {90 * quarter} at {fold}")
    print(f"single pages split: {split} of {total} (auto: {auto})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder (has MANIFEST.tsv)")
    args = parser.parse_args()
    measure_spreads(args.corpus)
    measure_two_column_sheets(args.corpus)
    measure_single_pages(args.corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
