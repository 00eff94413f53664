"""Image cleanup before OCR: remove salt-and-pepper specks, turn the page upright, straighten it, crop the
scanner bed, fill punched holes, give the letters the size Tesseract reads best, flatten the lighting, whiten
show-through (where the profile says so), denoise, binarize (or not: soft strokes stay grey). Before it, a whole
scan is made positive if it is a negative (`make_positive`), a sheet photographed askew is warped to its rectangle
(`flatten_perspective`), and a two-page spread is split (`split_spread`).

Two images leave this stage: `access` (what people look at: the scan's own pixels, only turned by quarter turns)
and `ocr` (what Tesseract reads, every step applied). The page shows the access image straightened by
`skew_angle` and cut to `crop_box` (`page_image`; the PDF does both as it draws the scan, stages.render), so the
scan is never resampled for people to see it. The OCR image is `ocr_scale` times that page's size and otherwise
aligned with it: Tesseract's text layer, written at dpi x ocr_scale, has the page's physical size, so it lies
exactly over it in the PDF. One exception: a clean page skewed a little is read as scanned while the page is
shown straightened; `text_turn` then says how to turn the reading onto it (stages.text_turn).

Measurements (orientation, skew, page outline, letter size, background) are taken on downscaled copies: a
9000x9000 scan then costs little more memory than a few copies of itself, and cleanup stays a small
fraction of Tesseract's time. `timings` says what each step cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from ...profiles import CleanProfile, OrientationSettings
from ..load import only_black_and_white
from .colour_marks import brightest_channel, ocr_grey
from .geometry import crop_borders, deskew, paper_colour, rotate
from .holes import fill_punched_holes
from .orientation import is_sideways, osd_turn, turn_image, upright_turn
from .perspective import flatten_perspective
from .photometric import (already_clean, binarize, denoise, is_blank, normalize_illumination, paper_clearly_dark,
                          reduce_show_through, sample_factor, sauvola, soft_strokes)
from .measure import STRIP_ASPECT, forget_page, shrink_by, text_height
from .resolution import letter_factor, reduce_large_page, resample_for_ocr, resize
from .specks import despeckle
from .spreads import split_spread, turn_of_spread
from .tone import make_positive
from .work import Work, to_grey

GENTLE_MAX_SKEW = 0.3  # degrees: a clean page skewed less than this is left as scanned
READ_SKEWED_BELOW = 0.5  # degrees: a clean page skewed less is still read as scanned (see _as_scanned)

__all__ = ["CleanedPage", "clean_page", "flatten_perspective", "make_positive", "split_spread", "turn_of_spread",
           "rotate", "paper_colour", "sauvola", "write_debug"]


@dataclass(frozen=True)
class CleanedPage:
    access: np.ndarray  # uint8, grey or RGB like the input, turned by `turn`; the input array itself if not turned
    ocr: np.ndarray  # uint8 grey, or only 0 and 255 when binarized; ocr_scale times the page's size
    skew_angle: float  # the page's skew, degrees counter-clockwise, undone by turning it back; 0 if left alone
    crop_box: tuple[int, int, int, int] | None  # (left, top, right, bottom) in the straightened access image
    steps: tuple[str, ...]  # the steps that changed the page, in order
    timings: tuple[tuple[str, float], ...] = ()  # (step, seconds), also for steps that found nothing to do
    turn: int = 0  # degrees counter-clockwise the page was turned to stand upright (0, 90, 180, 270)
    ocr_scale: float = 1.0  # OCR image pixels per access image pixel
    keep_grey: bool | None = None  # soft strokes: Tesseract gets the flattened grey image, not black and white
    text_height: int | None = None  # most common letter height in the OCR image, px (None: not measured)
    as_scanned: bool = False  # the gentle path left the page exactly as scanned (`ocr` is its grey copy)
    text_turn: float = 0.0  # degrees counter-clockwise a reading of `ocr` must be turned to lie on the page
    paper: tuple[int, int, int] | int = 255  # fills the corners straightening uncovers (RGB or grey, as `access`)

    @property
    def seconds(self) -> float:
        return sum(seconds for _, seconds in self.timings)

    def page_image(self) -> np.ndarray:
        """The page as people see it, in pixels: the access image straightened and cropped. For callers that
        need the pixels (tests, the Python API); the PDF draws the scan so instead (stages.render)."""
        return _shown(self.access, self.skew_angle, self.crop_box, self.paper)


def clean_page(image: np.ndarray, dpi: int, profile: CleanProfile, debug_dir: Path | None = None) -> CleanedPage:
    """Run the profile's cleanup steps on one decoded page (uint8, HxW grey or HxWx3 RGB) of resolution `dpi`
    (as load_page gives it: a tag that cannot be right is already replaced there, see stages.dpi)."""
    if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(f"expected uint8 HxW or HxWx3 pixels, got {image.dtype} {image.shape}")
    started = time.perf_counter()
    grey, colour_marks = ocr_grey(image)
    work = Work(access=image, ocr=grey, dpi_scale=dpi / 300, colour_marks=colour_marks)
    steps = ["grey", "leave_out_colour_marks"] if colour_marks else ["grey"]
    timings = [("grey", time.perf_counter() - started)]
    write_debug(debug_dir, 1, steps[-1], work.ocr)
    if is_blank(work.ocr):  # nothing to read: Tesseract gets white paper, people see the scan
        timings.append(("blank", time.perf_counter() - started))
        return CleanedPage(access=image, ocr=np.full_like(work.ocr, 255), skew_angle=0.0, crop_box=None,
                           steps=("grey", "blank"), timings=tuple(timings))
    try:
        work = _run(_GEOMETRIC_STEPS, work, profile, steps, timings, debug_dir)
        if profile.binarize.keep_clean_scans:
            started = time.perf_counter()
            factor, work = _clean_scan_factor(work, image, profile)
            timings.append(("already_clean", time.perf_counter() - started))
            if factor is not None:
                return _as_scanned(work, image, steps, timings, factor, debug_dir)
        work = _run(_PHOTOMETRIC_STEPS, work, profile, steps, timings, debug_dir)
    finally:
        forget_page()
    return CleanedPage(access=work.access, ocr=work.ocr, skew_angle=work.skew_angle, crop_box=work.crop_box,
                       steps=tuple(steps), timings=tuple(timings), turn=work.turn, ocr_scale=work.ocr_scale,
                       keep_grey=work.keep_grey, text_height=work.text_height, paper=work.paper)


def _shown(access: np.ndarray, skew_angle: float, crop_box: tuple[int, int, int, int] | None,
           paper: tuple[int, int, int] | int) -> np.ndarray:
    shown = rotate(access, -skew_angle, paper) if skew_angle else access
    if crop_box is not None:
        left, top, right, bottom = crop_box
        shown = shown[top:bottom, left:right]
    return shown


def _run(step_list, work: Work, profile: CleanProfile, steps: list, timings: list, debug_dir: Path | None) -> Work:
    for name, section, step in step_list:
        settings = getattr(profile, section)
        if not settings.enabled:
            continue
        started = time.perf_counter()
        changed = step(work, settings)
        timings.append((name, time.perf_counter() - started))
        if changed is None:
            continue
        image_changed = changed.ocr is not work.ocr
        work = changed
        if image_changed:
            steps.append(name)
            write_debug(debug_dir, len(steps), name, work.ocr)
    return work


def _as_scanned(work: Work, image: np.ndarray, steps: list, timings: list, factor: float,
                debug_dir: Path | None) -> CleanedPage:
    """The gentle path's result: Tesseract reads the page as scanned. A skew under GENTLE_MAX_SKEW is left
    alone. A larger one under READ_SKEWED_BELOW straightens only the page people see: measured on six clean
    pages turned by known angles, straightening before reading lost on 10 of 12 readings at 0.5 degrees and
    was even at 0.8, and paid from 1 degree (bench/clean_skew.py); the reading is turned onto the straightened
    page afterwards (`text_turn`, see stages.text_turn). Larger skews are straightened for reading too.
    A clean sheet on a scanner bed is read as its crop shows it: straightened as measured (the crop box lies
    in the straightened image), the bed left beside it whitened (crop_borders), nothing else changed.

    A page that had to be turned upright, or whose letters are far from the size Tesseract reads best (`factor`
    != 1: a 600 dpi page, a 150 dpi one; or a big page `reduce_large_page` reduced), is read so too, only turned
    and resized. Flattening, denoising and binarizing have nothing to mend on clean paper, and they cost such
    pages what the gentle path saves the others: the six clean corpus pages this takes at 600 dpi read 0.049 so
    cleaned, 0.041 only resized (raw Tesseract 0.043); faded, the six it takes 0.065 -> 0.051; upside down and
    sideways, the seven it takes 0.089 cleaned, 0.081 only turned, as upright (0.081; bench/scan_variants.py,
    bench/RESULTS.md, twenty-sixth session). A page read as scanned is turned and resized from the scan itself,
    in one resampling; Tesseract then reads that image, not the file. A black-and-white scan is not only
    resized (`_clean_scan_factor`): enlarged, its stepped edges need the median that the full cleanup applies
    after it (83 black-and-white scan variants: CER 0.112 cleaned, 0.121 only resized)."""
    changed = factor != 1.0 or work.ocr_scale != 1.0 or work.turn
    scale = work.ocr_scale * factor
    skew = abs(work.skew_angle)
    from_scan = work.crop_box is None and skew < READ_SKEWED_BELOW
    straightened = work.crop_box is not None or skew >= GENTLE_MAX_SKEW
    started = time.perf_counter()
    if from_scan and factor == 1.0 and work.reduced_scan is not None and work.reduced_scan[0] == work.turn:
        ocr = work.reduced_scan[1]  # the scan at this scale and turn, made already (a page turned over after its
        # reduction is not: area averages of a page and of the page turned over are not the same pixels turned)
    elif from_scan:
        ocr = turn_image(brightest_channel(image) if work.colour_marks else to_grey(image), work.turn)
        ocr = resize(ocr, scale) if scale != 1.0 else ocr
    else:
        ocr = resize(work.ocr, factor) if factor != 1.0 else work.ocr
    timings.append(("as_scanned", time.perf_counter() - started))  # the image Tesseract reads costs as well
    kept = ({"leave_out_colour_marks", "turn_sideways", "turn_over", "reduce_large_page"}
            | ({"deskew"} if straightened else set()) | (set() if from_scan else {"crop_borders"}))
    _drop_debug(debug_dir, steps, kept)
    write_debug(debug_dir, len(steps) + 1, "already_clean", ocr)  # what Tesseract reads: not the last step's
    done = tuple(step for step in steps if step in kept) + (("resolution",) if factor != 1.0 else ())
    return CleanedPage(access=work.access, ocr=ocr, skew_angle=work.skew_angle if straightened else 0.0,
                       crop_box=work.crop_box, steps=("grey", *done, "already_clean"), timings=tuple(timings),
                       turn=work.turn, ocr_scale=scale, keep_grey=True,
                       text_height=round(work.text_height * factor) if changed and work.text_height else None,
                       as_scanned=from_scan and not changed and not work.colour_marks,  # the file has the marks
                       text_turn=-work.skew_angle if from_scan and straightened else 0.0,
                       paper=work.paper if straightened else 255)


def _clean_scan_factor(work: Work, image: np.ndarray, profile: CleanProfile) -> tuple[float | None, Work]:
    """The gentle path: a scan on clean paper goes to Tesseract as it was scanned, only turned upright,
    straightened, cut from the scanner bed and resized if need be (see photometric.already_clean).
    A sheet on a dark bed is judged by its crop: the bed is no stain of the paper.
    Returns how much its letters need to be resized (1.0: not at all; None: not a clean scan, the photometric
    steps follow), and the page with its letter height, once measured."""
    if work.holes or work.despeckled or paper_clearly_dark(work.ocr):
        return None, work
    if not already_clean(work.access if work.crop_box is None else _sheet_sample(work)):
        return None, work
    if not profile.resolution.enabled:
        return 1.0, work
    if work.text_height is None:
        work = replace(work, text_height=text_height(work.ocr))
    factor = letter_factor(work.ocr, work.text_height, profile.resolution)
    if (factor != 1.0 or work.ocr_scale != 1.0) and image.ndim == 2 and only_black_and_white(image):
        return None, work  # see _as_scanned
    return factor, work


def _sheet_sample(work: Work) -> np.ndarray:
    """The sheet on a scanner bed, straightened and cut as the page shows it, on a copy of the size `already_clean`
    judges (an average by a whole factor): turning the whole scan for it took 25-90 ms."""
    factor = sample_factor(work.access.shape)
    box = tuple(round(side / factor) for side in work.crop_box)
    return _shown(shrink_by(work.access, factor), work.skew_angle, box, work.paper)


def _turn_sideways(work: Work, settings: OrientationSettings) -> Work | None:
    """A page whose text runs vertically is turned a quarter counter-clockwise, and `_turn_over` puts it on its
    feet if that made it stand on its head: its up-and-down cues, measured once it is straight, settle that at
    no cost when they are clear, and ask Tesseract's detector when not. Asking the detector here first, to
    choose the quarter, cost a run on every such page (bench/orientation.py: turned pages 59 -> 4 runs, none
    wrong; bench/RESULTS.md, twenty-sixth session). A strip of a few lines standing on its end is still turned
    the way the detector says (its cues are weak: DIBCO 2011 PR1 with its back showing through came out on its
    side without it). The detector only chooses between the two quarter turns: an answer of 0 or 180
    contradicts the measured direction of the lines (which is the surer of the two) and counts as unsure."""
    if not is_sideways(work.ocr):
        return None
    height, width = work.ocr.shape
    turn = osd_turn(work.ocr, settings.osd_confidence) if height > STRIP_ASPECT * width else None
    turn = turn if turn in (90, 270) else 90
    return replace(work, access=turn_image(work.access, turn), ocr=turn_image(work.ocr, turn), turn=turn)


def _turn_over(work: Work, settings: OrientationSettings) -> Work | None:
    """A page standing on its head is turned over; one that `_turn_sideways` could not tell lies on its side
    is turned a quarter when Tesseract's detector says so (see orientation.upright_turn)."""
    turn, _ = upright_turn(work.ocr, settings.osd_confidence)
    if not turn:
        return None
    return replace(work, access=turn_image(work.access, turn), ocr=turn_image(work.ocr, turn),
                   turn=(work.turn + turn) % 360)


def _assess(work: Work, settings) -> Work:
    """Not a change of the image: the verdict soft strokes or crisp, which denoise and binarize follow."""
    return replace(work, keep_grey=soft_strokes(work.ocr))


# (step name, profile section, step). Specks go first: every measurement after them counts marks. Orientation
# runs twice: sideways before deskew, upside down after it, because telling up from down needs straight text
# lines. A big page with large letters is reduced (resolution.reduce_large_page) once its letters stand upright
# to be measured, and before the steps that would work on all its pixels. `assess` only measures (soft strokes
# or crisp), before resolution: enlarging makes grey letter edges that are no softness of the scan.
_GEOMETRIC_STEPS = (
    ("despeckle", "despeckle", despeckle),
    ("turn_sideways", "orientation", _turn_sideways),
    ("reduce_large_page", "resolution", reduce_large_page),
    ("deskew", "deskew", deskew),
    ("turn_over", "orientation", _turn_over),
    ("crop_borders", "crop_borders", crop_borders),
    ("fill_punched_holes", "crop_borders", fill_punched_holes),
)
_PHOTOMETRIC_STEPS = (
    ("normalize_illumination", "normalize_illumination", normalize_illumination),
    ("reduce_show_through", "show_through", reduce_show_through),
    ("assess", "binarize", _assess),
    ("resolution", "resolution", resample_for_ocr),
    ("denoise", "denoise", denoise),
    ("binarize", "binarize", binarize),
)


def _drop_debug(debug_dir: Path | None, steps: list[str], kept: set[str]) -> None:
    """Remove the debug images of the steps the gentle path left aside (a straightening under
    READ_SKEWED_BELOW, a crop of a page read from the scan): the folder shows what Tesseract's image went
    through, as the JSON's `cleanup` lists it. The others keep their numbers, the order the steps ran in."""
    if debug_dir is None:
        return
    for number, name in enumerate(steps, start=1):
        if name not in kept and name != "grey":
            (debug_dir / f"{number:02d}_{name}.png").unlink(missing_ok=True)


def write_debug(debug_dir: Path | None, number: int, name: str, image: np.ndarray) -> None:
    """`image` as `NN_name.png` in `debug_dir` (`retrodig ocr --debug-dir`), when there is one."""
    if debug_dir is None:
        return
    debug_dir.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(debug_dir / f"{number:02d}_{name}.png"), image)
