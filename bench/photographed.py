"""Sheets photographed askew: the corpus's pages laid on a table and seen in perspective, read with and without
flattening (stages.cleanup.perspective), and cut crooked, to be left as they are.

What it measures
    Each real scan and rendered page of the accuracy benchmark (kind=ocr with ground truth) is laid on a brown
    table lit from one side and seen as a phone held over it sees it, in two ways: `tilted` (the phone tilted
    towards the sheet's top: its top edge 30 % shorter, its sides converging by 12 degrees, its top and bottom
    edges by 1, the whole turned 2-3 degrees) and `turned` (also turned about the upright: its sides converging
    by 9 degrees, its top and bottom edges by 12). The photo is a JPEG of quality 90. `retrodig`'s reading of each (CER against the page's ground
    truth) is given with the default profile and with the same profile without `perspective`; and how many pages
    were flattened. A third variant, `cut` (the sheet's top cut 3 degrees off in a margin added above its text,
    lying straight on the table, its text straight), must not be flattened: only counted, not read.

How to run (from the repository root; ~12 minutes on 2 cores):
    .venv/bin/python bench/photographed.py [--corpus DIR] [--pages N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from accuracy import DEFAULT_CORPUS, installed_languages, language_to_use, load_pages  # noqa: E402

from pipeline.api import read_file  # noqa: E402
from pipeline.evaluation import character_error_rate  # noqa: E402
from pipeline.options import Options  # noqa: E402
from pipeline.stages.cleanup import flatten_perspective  # noqa: E402

# Where the sheet's corners fall, as shares of the photo's width and height (top left, top right, bottom right,
# bottom left), for a photo 1.25 times the sheet's size.
VIEWS = {
    "tilted": [(0.20, 0.10), (0.80, 0.12), (0.93, 0.92), (0.07, 0.90)],
    "turned": [(0.17, 0.08), (0.81, 0.14), (0.92, 0.90), (0.08, 0.93)],
}


def table(height: int, width: int) -> np.ndarray:
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
    light = 0.8 + 0.3 * np.exp(-(((columns - width / 3) / width) ** 2 + ((rows - height / 4) / height) ** 2))
    return np.clip(light[..., None] * np.array([110, 72, 42], np.float32), 0, 255).astype(np.uint8)


def photographed(page: np.ndarray, view: list[tuple[float, float]]) -> np.ndarray:
    height, width = page.shape[:2]
    size = (round(width * 1.25), round(height * 1.25))
    corners = np.float32([(x * size[0], y * size[1]) for x, y in view])
    source = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    matrix = cv2.getPerspectiveTransform(source, corners)
    sheet = cv2.warpPerspective(page, matrix, size, flags=cv2.INTER_AREA)
    inside = cv2.warpPerspective(np.full((height, width), 255, np.uint8), matrix, size, flags=cv2.INTER_AREA)
    share = inside[..., None].astype(np.float32) / 255
    return (share * sheet + (1 - share) * table(size[1], size[0])).round().astype(np.uint8)


def cut_crooked(page: np.ndarray) -> np.ndarray:
    """The page with its top cut 3 degrees off, in a margin of paper added above it (the cut crosses no text)."""
    drop = round(page.shape[1] * np.tan(np.radians(3)))
    paper = np.percentile(page.reshape(-1, 3), 90, axis=0).astype(np.uint8)
    page = np.concatenate([np.broadcast_to(paper, (drop + 10, page.shape[1], 3)), page])
    height, width = page.shape[:2]
    cut = np.zeros((height, width), np.uint8)
    cv2.fillConvexPoly(cut, np.int32([[0, 0], [width, drop], [width, height], [0, height]]), 255)
    canvas = table(round(height * 1.2), round(width * 1.2))
    top, left = round(height * 0.1), round(width * 0.1)
    region = canvas[top:top + height, left:left + width]
    region[cut > 0] = page[cut > 0]
    return canvas


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--pages", type=int, help="only the first N pages")
    parser.add_argument("--keep", type=Path, help="keep the photos in this folder")
    args = parser.parse_args()
    installed = installed_languages()
    pages = load_pages(args.corpus, installed)[:args.pages]
    folder = args.keep or Path(tempfile.mkdtemp(prefix="photographed-"))
    folder.mkdir(parents=True, exist_ok=True)
    without = folder / "without-perspective.yaml"
    without.write_text((REPO / "configs" / "profiles" / "default.yaml").read_text()
                       .replace("name: default", "name: without-perspective")
                       + "\nperspective:\n  enabled: false\n")
    totals: dict[str, list[float]] = {}
    flattened: dict[str, int] = {}
    for page in pages:
        rgb = np.array(Image.open(page.image).convert("RGB"))
        truth = page.truth.read_text(encoding="utf-8")
        languages = language_to_use(page.manifest_language, installed)
        cut_flattened = flatten_perspective(cut_crooked(rgb), 0.5) is not None
        flattened["cut"] = flattened.get("cut", 0) + cut_flattened
        shown = ["CUT FLATTENED"] if cut_flattened else []
        for view, corners in VIEWS.items():
            path = folder / f"{page.name}-{view}.jpg"
            Image.fromarray(photographed(rgb, corners)).save(path, quality=90, dpi=(300, 300))
            for profile in ("default", str(without)):
                options = Options(archive=folder / "unused", jobs=1, languages=languages, profile=profile)
                read = read_file(path, options)
                cer = character_error_rate("\n".join(part.text.text for part in read), truth)
                key = f"{view} {'flattened' if profile == 'default' else 'as photographed'}"
                totals.setdefault(key, []).append(cer)
                if profile == "default":
                    flattened[view] = flattened.get(view, 0) + ("flatten_perspective" in read[0].steps)
                shown.append(f"{key} {cer:.3f}")
        print(f"{page.name[:30]:30} " + "  ".join(shown), flush=True)
    print(f"\n{len(pages)} pages, mean CER:")
    for key, values in totals.items():
        print(f"  {key:28} {np.mean(values):.4f}")
    print("flattened: " + ", ".join(f"{view} {count} of {len(pages)}" for view, count in flattened.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
