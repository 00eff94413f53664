"""Stroke verdict: how sure the cleanup's soft-or-crisp verdict is, and what each side of it reads.

What it measures, on each page of the accuracy corpus (kind=ocr in MANIFEST.tsv) that the default profile
cleans as far as the verdict (a clean scan read as scanned gets none):
    softness   rim pixels per core pixel (cleanup.photometric.stroke_softness; soft from SOFT_RIM_RATIO) as the
               page is cleaned, and again with its measured skew turned `--wobble` degrees less and more: a
               change of nothing but the straightening, which moves the measure as a measurement change would.
               Printed: the three values and the largest relative move.
    readings   (with --read) the OCR image as cleaned, and as cleaned with the verdict turned the other way
               (denoised where it was not, or not where it was), each read once by Tesseract with the page's
               language as the pipeline reads it (no second looks): quality score and CER of each, the other
               side's lead in score and its change in CER. Whether the score can tell the better side.
    The bench changes the pipeline in two places only while it measures, by wrapping functions: the measured
    skew (`geometry.estimate_skew`) and the verdict (the `assess` step of `cleanup._PHOTOMETRIC_STEPS`).

How to run (from the repository root; ~1 minute, with --read ~10 minutes):
    .venv/bin/python bench/stroke_verdict.py [--corpus DIR] [--wobble DEG] [--read] [--only SUBSTRING]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import DEFAULT_CORPUS, installed_languages, load_pages, normalize_historic  # noqa: E402
from cleanup_time import FORMATS  # noqa: E402

from pipeline._exec import tesseract  # noqa: E402
from pipeline.evaluation import character_error_rate  # noqa: E402
from pipeline.options import CONFIGS_DIR  # noqa: E402
from pipeline.pagework import tesseract_dpi  # noqa: E402
from pipeline.profiles import load_profile  # noqa: E402
import pipeline.stages.cleanup as cleanup  # noqa: E402
from pipeline.stages.cleanup import clean_page, geometry, make_positive  # noqa: E402
from pipeline.stages.cleanup.photometric import SOFT_RIM_RATIO, stroke_softness  # noqa: E402
from pipeline.stages.load import load_page  # noqa: E402
from pipeline.stages.ocr import read_whole_page  # noqa: E402
from pipeline.stages.quality import page_quality  # noqa: E402


@contextlib.contextmanager
def skew_turned_by(degrees: float):
    """The cleanup straightens by its measured skew plus `degrees`."""
    measured = geometry.estimate_skew
    geometry.estimate_skew = lambda grey, max_angle: measured(grey, max_angle) + degrees
    try:
        yield
    finally:
        geometry.estimate_skew = measured


@contextlib.contextmanager
def verdict_watched(softness: list[float], turned: bool = False):
    """The cleanup's soft-stroke verdict, its measure appended to `softness`; the other way when `turned`."""
    steps = cleanup._PHOTOMETRIC_STEPS

    def watched(assess):
        def step(work, settings):
            softness.append(stroke_softness(work.ocr))
            judged = assess(work, settings)
            return replace(judged, keep_grey=not judged.keep_grey) if turned else judged
        return step
    cleanup._PHOTOMETRIC_STEPS = tuple((name, section, watched(step) if name == "assess" else step)
                                       for name, section, step in steps)
    try:
        yield
    finally:
        cleanup._PHOTOMETRIC_STEPS = steps


def read_page(cleaned, dpi: int, language: str, profile, truth: str) -> tuple[float, float]:
    """(quality, CER) of one reading of the cleaned page's OCR image, as the pipeline reads it."""
    with tempfile.TemporaryDirectory(prefix="bench-strokes-") as tmp:
        stem = Path(tmp) / "page"
        image = tesseract.write_image(cleaned.ocr, stem.with_name(stem.name + "_ocr"))
        reading, _ = read_whole_page(image, cleaned.ocr, stem, language, 1, tesseract_dpi(cleaned, dpi), 600,
                                     profile.quality.reread_if_unread)
    return page_quality(reading.page), character_error_rate(normalize_historic(reading.page.text), truth)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder (has MANIFEST.tsv)")
    parser.add_argument("--wobble", type=float, default=0.05, help="degrees the straightening is turned by")
    parser.add_argument("--read", action="store_true", help="also read each page both ways")
    parser.add_argument("--only", action="append", help="only pages whose name contains this (repeatable)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    pages = [page for page in load_pages(args.corpus, installed_languages())
             if not args.only or any(part in page.name for part in args.only)]
    if not pages:
        print(f"no pages with ground truth under {args.corpus}", file=sys.stderr)
        return 2
    profile = load_profile("default", CONFIGS_DIR)
    print(f"soft from {SOFT_RIM_RATIO}; softness as cleaned, skew turned -{args.wobble} and +{args.wobble} degrees")
    for page in pages:
        loaded = load_page(page.image, FORMATS[page.image.suffix.lower()], 0, 10**9, 300)
        scan, _ = make_positive(loaded.pixels)
        measured: list[float] = []
        with verdict_watched(measured):
            cleaned = clean_page(scan, loaded.dpi, profile)
        if not measured:
            print(f"{page.name[:30]:30} no verdict (read as scanned)", flush=True)
            continue
        softness, turned = measured[0], []
        for degrees in (-args.wobble, args.wobble):
            measured.clear()
            with skew_turned_by(degrees), verdict_watched(measured):
                clean_page(scan, loaded.dpi, profile)
            turned.append(measured[0] if measured else None)  # None: read as scanned when straightened so
        moves = [abs(value / softness - 1) for value in turned if value is not None and math.isfinite(softness)]
        line = (f"{page.name[:30]:30} {softness:6.3f} "
                f"{' '.join(f'{v:6.3f}' if v is not None else '     -' for v in turned)}"
                f"  moved {max(moves, default=0):5.1%}  {'soft' if cleaned.keep_grey else 'crisp'}")
        if args.read:
            truth = normalize_historic(page.truth.read_text(encoding="utf-8"))
            with verdict_watched([], turned=True):
                other = clean_page(scan, loaded.dpi, profile)
            both = (cleaned,) if np.array_equal(cleaned.ocr, other.ocr) else (cleaned, other)  # one: no difference
            sides = [read_page(side, loaded.dpi, page.language, profile, truth) for side in both]
            line += "  " + "  ".join(f"q {quality:.2f} CER {cer:.4f}" for quality, cer in sides)
            if len(sides) == 2:
                line += f"  lead {sides[1][0] - sides[0][0]:+.2f} CER {sides[1][1] - sides[0][1]:+.4f}"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
