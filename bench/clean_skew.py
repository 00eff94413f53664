"""Clean-skew benchmark: from what skew does straightening a clean page before reading pay?

What it measures
    Clean pages of the corpus (bright, even paper: the pages cleanup reads as scanned) are first straightened,
    then turned by known small angles, each way. Each turned page is read by Tesseract (`eng`, or `deu` for
    German pages; 300 dpi) as it is, and again after retrodig's skew estimate straightened it. Reported per
    angle: mean CER of both readings and on how many the straightened one was better or worse. Both readings
    carry the interpolation of the first turn; the straightened one carries a second, as a real scan's would
    carry its first. This is what `READ_SKEWED_BELOW` in pipeline/stages/cleanup/__init__.py rests on.

How to run (from the repository root; ~4 minutes with the defaults on 2 cores):
    .venv/bin/python bench/clean_skew.py [--corpus DIR] [--pages NAME,NAME,...] [--angles 0.3,0.5,...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from accuracy import normalize_historic  # noqa: E402

from pipeline._exec.tesseract import run_page, write_image  # noqa: E402
from pipeline.evaluation import character_error_rate  # noqa: E402
from pipeline.stages.cleanup.geometry import estimate_skew, paper_colour, rotate  # noqa: E402
from pipeline.stages.cleanup.work import to_grey  # noqa: E402
from pipeline.stages.load import load_page  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
CLEAN_PAGES = ("EHRI-DR-19390519-US_02", "EHRI-NISKO-19391112_DE_04", "EHRI-DR-19390519-US_03",
               "EHRI-DR-19390519-US_04", "EHRI-ET-JMP020_01", "EHRI-NISKO-19391112_DE_01")
ANGLES = (0.3, 0.5, 0.8, 1.0, 1.5, 2.5)
DPI = 300


def reading_cer(pixels: np.ndarray, language: str, truth: str) -> float:
    with tempfile.TemporaryDirectory(prefix="retrodig-skew-") as tmp:
        outputs = run_page(write_image(pixels, Path(tmp) / "page"), Path(tmp) / "out", language, 600, DPI)
        text = outputs["txt"].read_text(encoding="utf-8")
    return character_error_rate(normalize_historic(text), truth)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--pages", default=",".join(CLEAN_PAGES), help="page names (image stems), comma-separated")
    parser.add_argument("--angles", default=",".join(map(str, ANGLES)), help="degrees, comma-separated")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    angles = [float(a) for a in args.angles.split(",")]
    as_is: dict[float, list[float]] = {a: [] for a in angles}
    straightened: dict[float, list[float]] = {a: [] for a in angles}
    for name in args.pages.split(","):
        image = next((args.corpus / "ocr").rglob(f"{name}.jpg"))
        truth = normalize_historic(image.with_name(f"{name}.gt.txt").read_text(encoding="utf-8"))
        language = "deu" if "_DE_" in name or "JMP020" in name else "eng"
        grey = to_grey(load_page(image, "jpeg", 0, 10**9, DPI).pixels)
        own_skew = estimate_skew(grey, 5)
        base = rotate(grey, -own_skew, paper_colour(grey)) if abs(own_skew) >= 0.1 else grey
        cells = []
        for angle in angles:
            for sign in (1, -1):
                turned = rotate(base, sign * angle, paper_colour(base))
                estimate = estimate_skew(turned, 5)
                straight = rotate(turned, -estimate, paper_colour(turned))
                as_is[angle].append(reading_cer(turned, language, truth))
                straightened[angle].append(reading_cer(straight, language, truth))
                cells.append(f"{sign * angle:+.1f}: {as_is[angle][-1]:.3f}/{straightened[angle][-1]:.3f}")
        print(f"{name[:26]:26} (as is / straightened) " + "  ".join(cells), flush=True)
    print()
    print("angle   mean CER as is   straightened   straightening better / worse")
    for angle in angles:
        pairs = list(zip(as_is[angle], straightened[angle]))
        better = sum(s < a for a, s in pairs)
        worse = sum(s > a for a, s in pairs)
        print(f"{angle:4.1f}°   {np.mean(as_is[angle]):.4f}           {np.mean(straightened[angle]):.4f}"
              f"         {better:2d} / {worse}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
