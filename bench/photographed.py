"""Sheets photographed askew: the corpus's pages laid on a table and seen in perspective, read with and without
flattening (stages.cleanup.perspective), and cut crooked, to be left as they are.

What it measures
    Each real scan and rendered page of the accuracy benchmark (kind=ocr with ground truth) is laid on a brown
    table lit from one side and seen as a phone held over it sees it (a pinhole camera pointed at the sheet's
    middle, `tests/photo_support.py`), in two ways: `tilted` (tilted 30 degrees towards the sheet's top, turned 2 in the picture)
    and `turned` (also turned 22 degrees about the upright: its top and bottom edges converge too). The photo is a JPEG of quality 90. `retrodig`'s reading of each (CER against the page's ground
    truth) is given with the default profile and with the same profile without `perspective`; and how many pages
    were flattened. A third variant, `cut` (the sheet's top cut 3 degrees off in a margin added above its text,
    lying straight on the table, its text straight), must not be flattened: only counted, not read.

How to run (from the repository root; ~12 minutes on 2 cores):
    .venv/bin/python bench/photographed.py [--corpus DIR] [--pages N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

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
from tests.photo_support import VIEWS, cut_crooked, photographed  # noqa: E402

def cut_in_its_margin(page: np.ndarray) -> np.ndarray:
    """The page with its top cut 3 degrees off, in a margin of paper added above it (the cut crosses no text)."""
    return cut_crooked(page, margin=round(page.shape[1] * np.tan(np.radians(3))) + 10)


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
    default = (REPO / "configs" / "profiles" / "default.yaml").read_text()
    turned_off, found = re.subn(r"(?m)^(perspective:.*\n  enabled: )true", r"\1false", default)
    assert found == 1, "configs/profiles/default.yaml has no `perspective:` section to turn off"
    without.write_text(turned_off.replace("name: default", "name: without-perspective"))
    totals: dict[str, list[float]] = {}
    flattened: dict[str, int] = {}
    for page in pages:
        rgb = np.array(Image.open(page.image).convert("RGB"))
        truth = page.truth.read_text(encoding="utf-8")
        languages = language_to_use(page.manifest_language, installed)
        cut_flattened = flatten_perspective(cut_in_its_margin(rgb), 0.5) is not None
        flattened["cut"] = flattened.get("cut", 0) + cut_flattened
        shown = ["CUT FLATTENED"] if cut_flattened else []
        for view, view_of in VIEWS.items():
            path = folder / f"{page.name}-{view}.jpg"
            Image.fromarray(photographed(rgb, view_of)).save(path, quality=90, dpi=(300, 300))
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
