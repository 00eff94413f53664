"""Writing left unread: what the handwritten-mixed profile flags on each page of the accuracy corpus.

What it measures
    Each page image of the accuracy benchmark's corpus (kind=ocr in MANIFEST.tsv), and any further image given
    with --image, is read the way `retrodig ingest --profile handwritten-mixed` reads it (pipeline.pagework).
    Printed per page: the places with writing no word was read from (stages.unread.writing_left_unread), the
    lines read unsurely (stages.quality.unsure_lines), and the time the search for unread writing took. There is
    no ground truth of where handwriting is: `--draw DIR` writes each page with its places outlined in red and
    its words in blue, to be looked at.
    `--skipped-print` reads each page twice instead, without and with the print read from those places
    (stages.skipped_print, the profile's `read_skipped_print`), and prints per page the places left, the CER
    against the page's ground truth (none for zoned or extra pages) and the OCR seconds of both, and the means.

How to run (from the repository root; about two minutes, four with --skipped-print):
    .venv/bin/python bench/unread_writing.py [--corpus DIR] [--image FILE:LANG ...] [--draw DIR] [--skipped-print]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import DEFAULT_CORPUS, installed_languages, load_pages, normalize_historic  # noqa: E402

from pipeline.evaluation import character_error_rate  # noqa: E402
from pipeline.options import CONFIGS_DIR  # noqa: E402
from pipeline.pagework import PageTask, process_page  # noqa: E402
from pipeline.profiles import load_profile  # noqa: E402
from pipeline.stages.unread import writing_left_unread  # noqa: E402

FORMATS = {".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff", ".tiff": "tiff", ".png": "png"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder (has MANIFEST.tsv)")
    parser.add_argument("--image", action="append", default=[], help="another page, as FILE:LANG (e.g. a.jpg:eng)")
    parser.add_argument("--draw", type=Path, help="write each page with its places outlined here")
    parser.add_argument("--skipped-print", action="store_true",
                        help="read each page without and with the print read from the places, and compare")
    args = parser.parse_args()
    pages = [(page.name, page.image, page.language, None if page.zoned else page.truth)
             for page in load_pages(args.corpus, installed_languages())]
    for given in args.image:
        path, _, language = given.rpartition(":")
        pages.append((Path(path).stem, Path(path), language, None))
    profile = load_profile("handwritten-mixed", CONFIGS_DIR)
    if args.skipped_print:
        return compare_skipped_print(pages, profile)
    flagged = 0
    with tempfile.TemporaryDirectory() as work:
        for name, image, language, _ in pages:
            result = _read(image, language, profile, Path(work) / name)
            places = result.unread_writing
            flagged += bool(places)
            seconds = _search_time(result)
            print(f"{name[:32]:32} {len(places):2} places  {len(result.unsure_lines):2} unsure lines  "
                  f"{seconds * 1000:4.0f} ms  " + " ".join(f"{r - l}x{b - t}" for l, t, r, b in places), flush=True)
            if args.draw:
                _draw(result, args.draw / f"{name}.png")
    print(f"\n{flagged} of {len(pages)} pages have writing left unread")
    return 0


def compare_skipped_print(pages, profile) -> int:
    """Each page read without and with the print read from its places left unread: places, CER, OCR seconds."""
    without = profile.model_copy(update={"quality": profile.quality.model_copy(update={"read_skipped_print": None})})
    print(f"{'page':32} {'places':>9} {'CER without':>12} {'with':>7} {'OCR s without':>14} {'with':>6}")
    totals: dict[str, list[float]] = {"cer without": [], "cer with": [], "ocr without": [], "ocr with": []}
    with tempfile.TemporaryDirectory() as work:
        for name, image, language, truth in pages:
            before = _read(image, language, without, Path(work) / name / "without")
            after = _read(image, language, profile, Path(work) / name / "with")
            cers = [_cer(result, truth) for result in (before, after)]
            joined = "read_skipped_print" in after.steps
            totals["ocr without"].append(before.ocr_seconds)
            totals["ocr with"].append(after.ocr_seconds)
            if truth:
                totals["cer without"].append(cers[0])
                totals["cer with"].append(cers[1])
            shown = [f"{cer:.4f}" if truth else "-" for cer in cers]
            print(f"{name[:32]:32} {len(before.unread_writing):>3} -> {len(after.unread_writing):<3} {shown[0]:>12} "
                  f"{shown[1]:>7} {before.ocr_seconds:>14.2f} {after.ocr_seconds:>6.2f}"
                  + ("  print read" if joined else ""), flush=True)
    means = {key: sum(values) / len(values) for key, values in totals.items() if values}
    print(f"\nmean CER over {len(totals['cer with'])} pages with ground truth: {means['cer without']:.4f} without, "
          f"{means['cer with']:.4f} with; mean OCR s {means['ocr without']:.2f} without, {means['ocr with']:.2f} with")
    return 0


def _read(image: Path, language: str, profile, work: Path):
    task = PageTask(source=image, format=FORMATS[image.suffix.lower()], index=0, number=1, work_dir=work,
                    languages=language, profile=profile, max_pixels=10**9, default_dpi=300, jpeg_quality=90,
                    tesseract_timeout=600)
    return process_page(task)


def _cer(result, truth: Path | None) -> float:
    if truth is None:
        return float("nan")
    text = truth.read_text(encoding="utf-8")
    return character_error_rate(normalize_historic(result.text.text), normalize_historic(text))


def _search_time(result) -> float:
    """The time `writing_left_unread` takes on the page with its words."""
    grey = _page_as_read(result, cv2.IMREAD_GRAYSCALE)
    started = time.perf_counter()
    writing_left_unread(grey, result.text.words)
    return time.perf_counter() - started


def _draw(result, path: Path) -> None:
    """The page with its words in blue and its places with writing left unread in red."""
    page = _page_as_read(result, cv2.IMREAD_COLOR)
    for word in result.text.words:
        cv2.rectangle(page, word.bbox[:2], word.bbox[2:], (200, 120, 0), 1)
    for left, top, right, bottom in result.unread_writing:
        cv2.rectangle(page, (left, top), (right, bottom), (0, 0, 230), max(2, page.shape[1] // 400))
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), page)


def _page_as_read(result, flags: int) -> np.ndarray:
    """The page people see, at the size of the image Tesseract read (where its boxes lie)."""
    page = cv2.imread(str(result.access_image), flags)
    size = (result.text.width, result.text.height)
    return page if page.shape[1::-1] == size else cv2.resize(page, size, interpolation=cv2.INTER_AREA)


if __name__ == "__main__":
    sys.exit(main())
