"""Scan variants: the corpus's real pages as other archives would hand them over, retrodig against raw Tesseract.

What it measures
    Each real scan of the corpus (kind=ocr, not the rendered pages; the UNLV page included) is made into
    variants an archive's scanner, microfilm reader or document system produces, which the accuracy benchmark
    does not hold:
      bitonal            black and white (Otsu), CCITT G4 TIFF, the scan's size and dpi tag
      bitonal-200        the same at two thirds of the size, tagged two thirds of the dpi (a 200 dpi scanner)
      bitonal-untagged   black and white at half the size, no dpi tag (small letters, resolution unknown)
      bitonal-mistagged  the same tagged 300 dpi (a scanner's default tag, or one kept when a system shrank the
                         file): a tag retrodig believes, since the page's size is plausible for it
      negative           light letters on dark paper inside a clear film border (a microfilm negative)
      speckled           3 % of the pixels turned black, mid grey or white at random (salt-and-pepper noise: a
                         dusty glass, a worn sensor, a photocopy of a photocopy), the scan's size and dpi tag
      speckled-heavy     the same with 10 % of the pixels
      faded              ink and paper brought close together (ink keeps 35 % of its darkness: a faded ribbon,
                         a weak carbon copy), the scan's size and dpi tag
      blurred            out of focus (a Gaussian blur of 1.5 px at 300 dpi: a camera stand, a curled sheet)
      jpeg-low           saved as a JPEG of quality 15 (a document system's thumbnails, e-mailed scans)
      shadow             lit unevenly: brightness falling to 45 % towards one corner (a book cradle, a phone)
      skewed             the sheet laid crooked on the glass: turned by 2.5 degrees (one way or the other, by
                         page), the corners filled with the paper's tone
      tilted             the sheet laid visibly crooked: turned by 8 degrees (one way or the other, by page) on a
                         canvas of its paper's tone large enough that no corner of it is lost
      crooked            the sheet laid far askew: turned by 30 degrees (one way or the other, by page) on a canvas
                         of its paper's tone just large enough to hold it (a sheet dropped on the glass, a photo
                         taken crooked)
      bed                the sheet on a dark scanner bed: a dark, slightly noisy margin of 6 % of the page on
                         every side, the sheet turned by 1 degree within it
      yellowed           aged paper in colour: paper and ink tinted towards brown, the paper 15 % darker
      bleed              show-through: the page's own mirror image showing faintly from the back (25 % of the
                         ink's darkness, its lines between the front's), as on thin paper written on both sides
      low-res            a grey scan at half the size and half the dpi tag, saved as JPEG of quality 75 (a
                         150 dpi scan from a document system)
      hi-res             twice the size and twice the dpi tag (cubic), colour kept, as PNG: a 600 dpi scan, as
                         archives scanning for preservation make them
      upside-down        the scan turned over (colour and dpi tag kept, as PNG): a sheet laid on the glass the
                         wrong way round. Raw Tesseract does not turn pages: its CER here says nothing
      sideways           the scan turned a quarter counter-clockwise, as above: a landscape-fed sheet
    retrodig reads each file as users run it (`retrodig ocr FILE --lang L --json`), raw Tesseract as
    `tesseract FILE - -l L` (both one thread). Reported per page and variant: both CERs and their ratio, and
    retrodig's cleanup time as a share of its OCR time (as `retrodig ocr` reports both: a fresh process per
    page); per variant: the mean CERs, how many pages retrodig reads more than 5 % worse than raw Tesseract,
    and on how many its cleanup took more than 15 % of its OCR time.

How to run (from the repository root; ~60 minutes for the 26 pages and 17 variants on 2 cores, upside-down and
sideways ~8 more, hi-res another ~25):
    .venv/bin/python bench/scan_variants.py [--corpus DIR] [--only SUBSTRING...] [--variants NAME...]
                                            [--retrodig-profile NAME_OR_YAML]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import (CLEANUP_SHARE_GOAL, DEFAULT_CORPUS, Page, installed_languages, load_pages,  # noqa: E402
                      normalize_historic, run_retrodig, run_tesseract)

from pipeline.evaluation import character_error_rate  # noqa: E402

FILM_BORDER = 0.04  # share of the page's height: the clear film around a microfilm frame
FILM_GREY = 235  # clear film, scanned
SPECKS = (0, 90, 255)  # the tones salt-and-pepper noise sets pixels to


def _scan(page: Page) -> tuple[np.ndarray, float | None]:
    with Image.open(page.image) as image:
        dpi = image.info.get("dpi")
        return np.asarray(image.convert("L")), float(dpi[0]) if dpi else None


def _bitonal(grey: np.ndarray, scale: float) -> np.ndarray:
    if scale != 1.0:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    _, black_and_white = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return black_and_white


def _save_g4(pixels: np.ndarray, path: Path, dpi: float | None) -> Path:
    extra = {"dpi": (round(dpi), round(dpi))} if dpi else {}
    Image.fromarray(pixels).convert("1").save(path, compression="group4", **extra)
    return path


def bitonal(page: Page, folder: Path) -> Path:
    grey, dpi = _scan(page)
    return _save_g4(_bitonal(grey, 1.0), folder / "bitonal.tif", dpi)


def bitonal_200(page: Page, folder: Path) -> Path:
    grey, dpi = _scan(page)
    return _save_g4(_bitonal(grey, 2 / 3), folder / "bitonal-200.tif", dpi * 2 / 3 if dpi else None)


def bitonal_untagged(page: Page, folder: Path) -> Path:
    grey, _ = _scan(page)
    return _save_g4(_bitonal(grey, 0.5), folder / "bitonal-untagged.tif", None)


def bitonal_mistagged(page: Page, folder: Path) -> Path:
    grey, _ = _scan(page)
    return _save_g4(_bitonal(grey, 0.5), folder / "bitonal-mistagged.tif", 300)


def negative(page: Page, folder: Path) -> Path:
    grey, dpi = _scan(page)
    border = round(FILM_BORDER * grey.shape[0])
    film = np.full((grey.shape[0] + 2 * border, grey.shape[1] + 2 * border), FILM_GREY, np.uint8)
    film[border:border + grey.shape[0], border:border + grey.shape[1]] = 255 - grey
    path = folder / "negative.png"
    Image.fromarray(film).save(path, **({"dpi": (round(dpi), round(dpi))} if dpi else {}))
    return path


def _save_png(grey: np.ndarray, dpi: float | None, path: Path) -> Path:
    Image.fromarray(grey).save(path, **({"dpi": (round(dpi), round(dpi))} if dpi else {}))
    return path


def _speckled(page: Page, folder: Path, share: float) -> Path:
    grey, dpi = _scan(page)
    rng = np.random.default_rng(zlib.crc32(page.name.encode()))  # the same specks on every run
    count = int(share * grey.size)
    noisy = grey.copy()
    noisy[rng.integers(0, grey.shape[0], count), rng.integers(0, grey.shape[1], count)] = rng.choice(
        np.array(SPECKS, np.uint8), count)
    return _save_png(noisy, dpi, folder / "speckled.png")


def speckled(page: Page, folder: Path) -> Path:
    return _speckled(page, folder, 0.03)


def speckled_heavy(page: Page, folder: Path) -> Path:
    return _speckled(page, folder, 0.10)


def faded(page: Page, folder: Path) -> Path:
    grey, dpi = _scan(page)
    paper = float(np.percentile(grey, 90))
    lighter = paper - (paper - grey.astype(np.float32)) * 0.35
    return _save_png(np.clip(lighter, 0, 255).astype(np.uint8), dpi, folder / "faded.png")


def blurred(page: Page, folder: Path) -> Path:
    grey, dpi = _scan(page)
    return _save_png(cv2.GaussianBlur(grey, (0, 0), 1.5 * (dpi or 300) / 300), dpi, folder / "blurred.png")


def jpeg_low(page: Page, folder: Path) -> Path:
    grey, dpi = _scan(page)
    path = folder / "jpeg-low.jpg"
    Image.fromarray(grey).save(path, quality=15, **({"dpi": (round(dpi), round(dpi))} if dpi else {}))
    return path


def shadow(page: Page, folder: Path) -> Path:
    grey, dpi = _scan(page)
    ys, xs = np.mgrid[0:grey.shape[0], 0:grey.shape[1]].astype(np.float32)
    distance = (ys / grey.shape[0] + xs / grey.shape[1]) / 2  # 0 at the top left, 1 at the bottom right
    return _save_png((grey * (1 - 0.55 * distance)).astype(np.uint8), dpi, folder / "shadow.png")


def _turned(grey: np.ndarray, degrees: float, fill: int) -> np.ndarray:
    height, width = grey.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(grey, matrix, (width, height), flags=cv2.INTER_CUBIC, borderValue=fill)


def _paper(grey: np.ndarray) -> int:
    return int(np.percentile(grey, 90))


def skewed(page: Page, folder: Path) -> Path:
    grey, dpi = _scan(page)
    sign = 1 if zlib.crc32(page.name.encode()) % 2 else -1
    return _save_png(_turned(grey, sign * 2.5, _paper(grey)), dpi, folder / "skewed.png")


def tilted(page: Page, folder: Path) -> Path:
    grey, dpi = _scan(page)
    sign = 1 if zlib.crc32(page.name.encode()) % 2 else -1
    paper = _paper(grey)
    pad = round(0.09 * max(grey.shape))  # sin(8 degrees) of the longer side: room for the corners
    canvas = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=paper)
    return _save_png(_turned(canvas, sign * 8.0, paper), dpi, folder / "tilted.png")


def crooked(page: Page, folder: Path) -> Path:
    grey, dpi = _scan(page)
    sign = 1 if zlib.crc32(page.name.encode()) % 2 else -1
    paper = _paper(grey)
    height, width = grey.shape
    angle = math.radians(30.0)  # the canvas is the turned sheet's outline
    pad_x = math.ceil((width * math.cos(angle) + height * math.sin(angle) - width) / 2)
    pad_y = math.ceil((height * math.cos(angle) + width * math.sin(angle) - height) / 2)
    canvas = cv2.copyMakeBorder(grey, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_CONSTANT, value=paper)
    return _save_png(_turned(canvas, sign * 30.0, paper), dpi, folder / "crooked.png")


def bed(page: Page, folder: Path) -> Path:
    grey, dpi = _scan(page)
    margin = round(0.06 * max(grey.shape))
    framed = cv2.copyMakeBorder(grey, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=0)
    sheet = cv2.copyMakeBorder(np.full_like(grey, 255), margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=0)
    framed, on_sheet = _turned(framed, 1.0, 0), _turned(sheet, 1.0, 0) > 127
    rng = np.random.default_rng(zlib.crc32(page.name.encode()))
    lid = np.clip(rng.normal(40, 8, framed.shape), 0, 255).astype(np.uint8)
    return _save_png(np.where(on_sheet, framed, lid), dpi, folder / "bed.png")


def yellowed(page: Page, folder: Path) -> Path:
    grey, dpi = _scan(page)
    level = grey.astype(np.float32) * 0.85
    tint = np.stack([level * 1.0, level * 0.88, level * 0.66], axis=2)
    path = folder / "yellowed.png"
    Image.fromarray(np.clip(tint, 0, 255).astype(np.uint8)).save(
        path, **({"dpi": (round(dpi), round(dpi))} if dpi else {}))
    return path


def bleed(page: Page, folder: Path) -> Path:
    grey, dpi = _scan(page)
    return _save_png(with_show_through(grey), dpi, folder / "bleed.png")


def with_show_through(grey: np.ndarray) -> np.ndarray:
    """`grey` with its own mirror image showing faintly from the back (a quarter of the ink's darkness), moved
    down by 1 % of the page, so that the reverse side's lines fall between the front's, as they mostly do."""
    back = np.clip(_paper(grey) - grey[:, ::-1].astype(np.float32), 0, 255) * 0.25
    back = np.roll(back, round(0.01 * grey.shape[0]), axis=0)
    return np.clip(grey - back, 0, 255).astype(np.uint8)


def hi_res(page: Page, folder: Path) -> Path:
    with Image.open(page.image) as image:
        dpi = image.info.get("dpi")
        pixels = np.asarray(image.convert("RGB" if image.mode in ("RGB", "RGBA", "P", "CMYK") else "L"))
    double = cv2.resize(pixels, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    path = folder / "hi-res.png"
    Image.fromarray(double).save(path, **({"dpi": (round(dpi[0] * 2), round(dpi[0] * 2))} if dpi else {}))
    return path


def low_res(page: Page, folder: Path) -> Path:
    grey, dpi = _scan(page)
    half = cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    path = folder / "low-res.jpg"
    Image.fromarray(half).save(path, quality=75, **({"dpi": (round(dpi / 2), round(dpi / 2))} if dpi else {}))
    return path


def _quarter_turned(page: Page, folder: Path, turn: Image.Transpose, name: str) -> Path:
    with Image.open(page.image) as image:
        dpi = image.info.get("dpi")
        turned = image.transpose(turn)
    path = folder / f"{name}.png"
    turned.save(path, **({"dpi": (round(dpi[0]), round(dpi[1]))} if dpi else {}))
    return path


def upside_down(page: Page, folder: Path) -> Path:
    return _quarter_turned(page, folder, Image.Transpose.ROTATE_180, "upside-down")


def sideways(page: Page, folder: Path) -> Path:
    return _quarter_turned(page, folder, Image.Transpose.ROTATE_90, "sideways")


VARIANTS: dict[str, Callable[[Page, Path], Path]] = {
    "bitonal": bitonal, "bitonal-200": bitonal_200, "bitonal-untagged": bitonal_untagged,
    "bitonal-mistagged": bitonal_mistagged, "negative": negative,
    "speckled": speckled, "speckled-heavy": speckled_heavy, "faded": faded, "blurred": blurred,
    "jpeg-low": jpeg_low, "shadow": shadow, "skewed": skewed, "tilted": tilted, "crooked": crooked,
    "bed": bed, "yellowed": yellowed,
    "bleed": bleed, "low-res": low_res, "hi-res": hi_res, "upside-down": upside_down, "sideways": sideways,
}


def measure(page: Page, variant: str) -> tuple[float, float, float]:
    """(retrodig's CER, raw Tesseract's CER, retrodig's cleanup time / OCR time) on the page made into
    `variant`."""
    truth = normalize_historic(page.truth.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="bench-variants-") as tmp:
        folder = Path(tmp)
        made = replace(page, image=VARIANTS[variant](page, folder))
        ours, raw = run_retrodig(made, folder), run_tesseract(made, folder)
    for result, system in ((ours, "retrodig"), (raw, "tesseract")):
        if result.error:
            print(f"  {page.name} {variant}: {system} failed: {result.error}", file=sys.stderr)
    return (character_error_rate(normalize_historic(ours.text), truth),
            character_error_rate(normalize_historic(raw.text), truth),
            ours.cleanup_seconds / ours.ocr_seconds if ours.ocr_seconds else 0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder (has MANIFEST.tsv)")
    parser.add_argument("--only", nargs="+", default=[], metavar="SUBSTRING",
                        help="only pages whose name contains one of these")
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--retrodig-profile", default="", metavar="NAME",
                        help="give retrodig this cleanup profile (a name, or a .yaml file to compare a setting)")
    args = parser.parse_args()
    pages = [replace(p, retrodig_profile=args.retrodig_profile) for p in load_pages(args.corpus, installed_languages())
             if p.group == "scanned" and (not args.only or any(part in p.name for part in args.only))]
    if not pages:
        print(f"no real scans with ground truth under {args.corpus}", file=sys.stderr)
        return 2
    scores: dict[str, list[tuple[float, float, float]]] = {v: [] for v in args.variants}
    print(f"{'page':30} {'variant':17} {'retrodig':>8} {'tesseract':>9} {'r/t':>5} {'clean/ocr':>9}")
    for page in pages:
        for variant in args.variants:
            ours, raw, share = measure(page, variant)
            scores[variant].append((ours, raw, share))
            print(f"{page.name[:30]:30} {variant:17} {ours:8.3f} {raw:9.3f} {ours / raw if raw else 0:5.2f} "
                  f"{share:9.3f}", flush=True)
    print()
    for variant, rows in scores.items():
        ours, raw = statistics.mean(r[0] for r in rows), statistics.mean(r[1] for r in rows)
        over = [r for r in rows if r[0] > 1.05 * r[1]]
        slow = [r for r in rows if r[2] > CLEANUP_SHARE_GOAL]
        print(f"{variant:17} n={len(rows)}  mean CER retrodig {ours:.3f}  tesseract {raw:.3f}  "
              f"ratio {ours / raw:.2f}  pages over 1.05x raw: {len(over)}  "
              f"cleanup over {CLEANUP_SHARE_GOAL:.0%} of OCR: {len(slow)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
