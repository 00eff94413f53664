"""Orientation benchmark: does every page of the corpus come out upright, whichever way it was scanned?

What it measures
    Every page image of the corpus manifest with kind=ocr (the pages stand upright as scanned) is turned by
    0, 90, 180 and 270 degrees and cleaned with the default profile (`pipeline.stages.cleanup.clean_page`,
    in-process, one thread). A page is right when the turn cleanup finds undoes the one applied. Reported:
    wrong pages per turn, how often Tesseract's orientation detector was asked and what it cost (an upright
    page should not need it: the cheap cues decide), and the cleanup time per page.
    With --tesseract, the baseline: Tesseract's detector alone on the whole turned page (`tesseract IMAGE -
    --psm 0`, as `ocrmypdf --rotate-pages` asks it), right when it names the turn with the confidence
    OCRmyPDF requires by default (14) or more, or is unsure on an upright page.

    With --show-through, every page first gets its own mirror image showing faintly from the back, its lines
    between the front's (scan_variants.py's "bleed" variant): the reverse side's letters, grey and back to
    front, must not turn the page.

How to run (from the repository root; ~3 minutes for the 30 pages on 2 cores, ~6 with --tesseract):
    .venv/bin/python bench/orientation.py [--corpus DIR] [--only SUBSTRING] [--tesseract] [--show-through]
    .venv/bin/python bench/orientation.py --images PAGE... (upright page images of your own)
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from pipeline._exec import tesseract  # noqa: E402
from pipeline.options import CONFIGS_DIR  # noqa: E402
from pipeline.profiles import load_profile  # noqa: E402
from pipeline.stages.cleanup import clean_page  # noqa: E402
from pipeline.stages.cleanup.work import to_grey  # noqa: E402
from pipeline.stages.load import load_page  # noqa: E402
from scan_variants import with_show_through  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
IMAGE_FORMATS = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".tif": "tiff", ".tiff": "tiff"}
OCRMYPDF_THRESHOLD = 14.0  # ocrmypdf --rotate-pages-threshold default


class CountedDetector:
    """Wraps the detector the cleanup calls, to count its runs and their time."""

    def __init__(self):
        self.calls, self.seconds = 0, 0.0
        self._real = tesseract.detect_orientation

    def __call__(self, image):
        started = time.perf_counter()
        try:
            return self._real(image)
        finally:
            self.calls += 1
            self.seconds += time.perf_counter() - started


def corpus_images(corpus: Path, only: str | None) -> list[Path]:
    with open(corpus / "MANIFEST.tsv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    images = [corpus / row["path"] for row in rows
              if row["kind"] == "ocr" and Path(row["path"]).suffix.lower() in IMAGE_FORMATS]
    return [image for image in images if only is None or only in image.name]


def tesseract_alone(pixels: np.ndarray, quarters: int, work: Path) -> bool:
    path = work / "turned.png"
    cv2.imwrite(str(path), pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
    done = subprocess.run(["tesseract", str(path), "-", "--psm", "0"], capture_output=True, text=True,
                          env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    values = dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    sure = float(values.get("Orientation confidence", "0")) >= OCRMYPDF_THRESHOLD
    turn = int(values["Orientation in degrees"]) if sure else 0
    return (turn + 90 * quarters) % 360 == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder (has MANIFEST.tsv)")
    parser.add_argument("--only", help="only images whose name contains this")
    parser.add_argument("--images", type=Path, nargs="+", help="these upright page images instead of the corpus's")
    parser.add_argument("--tesseract", action="store_true", help="also run the baseline: Tesseract's detector alone")
    parser.add_argument("--show-through", action="store_true",
                        help="give every page its mirror image showing through from the back first")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    detector = CountedDetector()
    tesseract.detect_orientation = detector  # the cleanup's orientation module calls it through the module
    profile = load_profile("default", CONFIGS_DIR)
    wrong = {q: [] for q in range(4)}
    baseline_wrong = {q: [] for q in range(4)}
    calls = {"upright": [0, 0.0], "turned": [0, 0.0]}
    cleanup_seconds: list[float] = []
    images = args.images or corpus_images(args.corpus, args.only)
    print(f"{'page':34} {'0':>5} {'90':>5} {'180':>5} {'270':>5}" + ("   tesseract alone" if args.tesseract else ""))
    with tempfile.TemporaryDirectory(prefix="retrodig-orientation-") as tmp:
        for image in images:
            page = load_page(image, IMAGE_FORMATS[image.suffix.lower()], 0, 10**9, 300)
            upright = page.pixels
            if args.show_through:
                upright = with_show_through(to_grey(upright))
            cells, baseline_cells = [], []
            for quarters in range(4):
                pixels = np.ascontiguousarray(np.rot90(upright, quarters))
                before = detector.calls, detector.seconds
                cleaned = clean_page(pixels, page.dpi, profile)
                kind = "upright" if quarters == 0 else "turned"
                calls[kind][0] += detector.calls - before[0]
                calls[kind][1] += detector.seconds - before[1]
                cleanup_seconds.append(cleaned.seconds)
                right = (cleaned.turn + 90 * quarters) % 360 == 0
                cells.append("ok" if right else f"x{cleaned.turn}")
                if not right:
                    wrong[quarters].append(image.stem)
                if args.tesseract:
                    alone = tesseract_alone(pixels, quarters, Path(tmp))
                    baseline_cells.append("ok" if alone else "x")
                    if not alone:
                        baseline_wrong[quarters].append(image.stem)
            print(f"{image.stem[:34]:34} " + " ".join(f"{c:>5}" for c in cells)
                  + ("   " + " ".join(baseline_cells) if args.tesseract else ""), flush=True)
    total = len(images)
    print()
    for quarters in range(4):
        line = f"turned {90 * quarters:3d}: retrodig wrong on {len(wrong[quarters])} of {total}"
        if args.tesseract:
            line += f"; Tesseract's detector alone wrong on {len(baseline_wrong[quarters])}"
        print(line + (f"  ({', '.join(wrong[quarters])})" if wrong[quarters] else ""))
    for kind, (count, seconds) in calls.items():
        pages = total if kind == "upright" else 3 * total
        print(f"orientation detector on {kind} pages: {count} runs for {pages} pages, {seconds:.1f} s")
    cleanup_seconds.sort()
    print(f"cleanup per page (all steps, one thread): median {cleanup_seconds[len(cleanup_seconds) // 2]:.2f} s,"
          f" max {cleanup_seconds[-1]:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
