"""Cleanup time: how long the cleanup stage takes on each page of the accuracy corpus, step by step.

What it measures
    Each page image of the accuracy benchmark's corpus (kind=ocr in MANIFEST.tsv) is decoded once, then made
    positive and cleaned with the default profile (`clean_page`), as a pool worker does (a spread is looked for
    only under a profile that splits them; the default does not): OpenCV on one thread (`--threads` to
    change), in one warm process that keeps the memory it frees (`pipeline.process_memory`;
    `--return-freed-memory` to measure glibc's default instead). Each page is cleaned `--repeat` times
    and its fastest run is kept, with the time of each step in that run. Printed: per page the total ms and the
    steps over 4 ms, then the total per step over all pages.
    To compare two versions, run it in both checkouts in turns (the machine's speed drifts by 10-20 % between
    runs) and compare the best of each; `--json` writes the numbers.

How to run (from the repository root; about a minute):
    .venv/bin/python bench/cleanup_time.py [--corpus DIR] [--repeat N] [--threads N] [--return-freed-memory]
        [--json FILE] [--images FILE...]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import DEFAULT_CORPUS, installed_languages, load_pages  # noqa: E402

from pipeline.options import CONFIGS_DIR  # noqa: E402
from pipeline.process_memory import keep_freed_memory  # noqa: E402
from pipeline.profiles import load_profile  # noqa: E402
from pipeline.stages.cleanup import clean_page, make_positive, split_spread  # noqa: E402
from pipeline.stages.load import load_page  # noqa: E402

FORMATS = {".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff", ".tiff": "tiff", ".png": "png"}


def time_page(pixels, dpi: int, profile, repeat: int) -> dict[str, float]:
    """Seconds per step of the fastest of `repeat` cleanups of one decoded page."""
    best: dict[str, float] | None = None
    for _ in range(repeat):
        started = time.perf_counter()
        scan, _ = make_positive(pixels)
        positive = time.perf_counter() - started
        started = time.perf_counter()
        halves = split_spread(scan, profile.split_spreads) if profile.split_spreads.enabled else [scan]
        spread = time.perf_counter() - started
        steps = {"make_positive": positive, "split_spread": spread}
        for half in halves:
            for step, seconds in clean_page(half, dpi, profile).timings:
                steps[step] = steps.get(step, 0.0) + seconds
        if best is None or sum(steps.values()) < sum(best.values()):
            best = steps
    return best or {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder (has MANIFEST.tsv)")
    parser.add_argument("--repeat", type=int, default=2, help="cleanups per page; the fastest counts")
    parser.add_argument("--threads", type=int, default=1, help="OpenCV threads (a pool worker uses 1)")
    parser.add_argument("--return-freed-memory", action="store_true",
                        help="glibc's default: large freed arrays go back to the system (a worker keeps them)")
    parser.add_argument("--json", type=Path, help="write the numbers here")
    parser.add_argument("--images", type=Path, nargs="+", help="time these images instead of the corpus's pages")
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    if not args.return_freed_memory:
        keep_freed_memory()
    images = args.images or [page.image for page in load_pages(args.corpus, installed_languages())]
    if not images:
        print(f"no pages with ground truth under {args.corpus}", file=sys.stderr)
        return 2
    profile = load_profile("default", CONFIGS_DIR)
    totals: collections.Counter[str] = collections.Counter()
    per_page = {}
    for image in images:
        loaded = load_page(image, FORMATS[image.suffix.lower()], 0, 10**9, 300)
        steps = time_page(loaded.pixels, loaded.dpi, profile, args.repeat)
        totals.update(steps)
        per_page[image.stem] = steps
        shown = " ".join(f"{step}={seconds * 1000:.0f}" for step, seconds in steps.items() if seconds > 0.004)
        print(f"{image.stem[:30]:30} {sum(steps.values()) * 1000:6.0f} ms  {shown}", flush=True)
    print(f"\nall {len(images)} pages: {sum(totals.values()):.2f} s  "
          + " ".join(f"{step}={seconds:.2f}" for step, seconds in totals.most_common()))
    if args.json:
        args.json.write_text(json.dumps({"threads": args.threads, "repeat": args.repeat, "pages": per_page},
                                        indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
