"""The work done for one page, in a worker process: decode, clean, OCR. Returns a small, picklable result.

A scan of a two-page spread becomes two pages: the task's result is the left page, and the right page
travels in its `more` (see `all_pages`). The caller opts into this with `PageTask.split_spreads`, since it
must then number the pages that follow one higher (`renumbered`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from ._exec import tesseract
from .hocr import Line
from .model import PageText, PixelBox
from .profiles import CleanProfile
from .stages.cleanup import (CleanedPage, clean_page, flatten_perspective, make_positive, split_spread,
                             turn_of_spread, write_debug)
from .stages.cleanup.choose import choose_profile
from .stages.cleanup.work import to_grey
from .stages.fraktur import fraktur_reading_languages
from .stages.language import detect_page_languages
from .stages.load import LoadedPage, load_page
from .stages.ocr import OcrOutput, read_whole_page
from .stages.preflight import jpeg_data_left_over
from .stages.quality import needs_review, page_quality, unsure_lines
from .stages.render import Placement, shown_part
from .stages.show_through import without_show_through
from .stages.skipped_print import read_skipped_print
from .stages.text_turn import turn_boxes, turn_reading
from .stages.unread import writing_left_unread

AUTO_LANGUAGE = "auto"
NORMALIZED_DPI = 300


@dataclass(frozen=True)
class PageTask:
    source: Path  # the master copy in the archive (never the user's original)
    format: str
    index: int  # 0-based page within the source file
    number: int  # 1-based page number within the document
    work_dir: Path  # where this page's intermediate files go
    languages: str  # Tesseract's syntax (ron+hun), or "auto": detected per page
    profile: CleanProfile
    max_pixels: int
    default_dpi: int
    jpeg_quality: int
    tesseract_timeout: float
    debug_dir: Path | None = None
    split_spreads: bool = False  # the caller handles a task that yields two pages (see module docstring)


@dataclass(frozen=True)
class PageResult:
    number: int
    access_image: Path
    hocr: Path
    text_pdf: Path
    text: PageText
    skew_angle: float
    steps: tuple[str, ...]
    turn: int = 0  # degrees the page was turned counter-clockwise to stand upright
    placement: Placement = Placement()  # how the page shows its access image: straightened, cut to the sheet
    languages: str = ""  # what Tesseract read it with
    quality: float = 0.0  # 0..1, see stages.quality
    needs_review: bool = False
    unsure_lines: tuple[Line, ...] = ()  # lines read too unsurely to be print (see stages.quality)
    unread_writing: tuple[PixelBox, ...] = ()  # places with writing no word was read from (see stages.unread)
    file_doubt: str = ""  # what is wrong with the scan file's data, though it decoded (see file_doubt)
    profile: str = ""  # the cleanup profile used (with --profile auto: the one picked for this page)
    part: int = 0  # 0 for a whole scan; 1 and 2 for the left and right page of a split spread
    scan_page: int = 0  # the 1-based scanned page (over the document's files) this page came from
    cleanup_seconds: float = 0.0
    cleanup_step_seconds: tuple[tuple[str, float], ...] = ()  # each cleanup step's share, as `clean_page` timed it
    ocr_seconds: float = 0.0
    more: tuple[PageResult, ...] = ()  # further pages the same scan held (the right page of a spread)


def process_page(task: PageTask) -> PageResult:
    task.work_dir.mkdir(parents=True, exist_ok=True)
    loaded = load_page(task.source, task.format, task.index, task.max_pixels, task.default_dpi)
    started = time.perf_counter()
    scan, negative = make_positive(loaded.pixels)
    if negative:  # what the archivist sees first: the scan made positive (01_grey comes after it)
        write_debug(task.debug_dir, 0, "invert_negative", to_grey(scan))
    flat = flatten_perspective(scan, task.profile.crop_borders.bed_darkness) if task.profile.perspective.enabled \
        else None
    if flat is not None:  # a sheet photographed askew, warped to its rectangle: from now on the page's pixels
        scan = flat
        write_debug(task.debug_dir, 0, "flatten_perspective", to_grey(scan))
    profile = choose_profile(scan, task.profile) if task.profile.candidates else task.profile
    halves, spread_turn = [scan], 0
    if task.split_spreads and profile.split_spreads.enabled:
        halves = split_spread(scan, profile.split_spreads)
        spread_turn = turn_of_spread(scan, profile.split_spreads) if len(halves) > 1 else 0
    whole_scan_seconds = time.perf_counter() - started
    whole_scan_steps = ("invert_negative",) * negative + ("flatten_perspective",) * (flat is not None)
    # The file's own pixels are what is cleaned: not when the scan was flattened or split (nor when load_page made
    # them otherwise, see LoadedPage.as_stored). Only then may Tesseract read the file itself.
    pixels_are_the_file = loaded.as_stored and flat is None and len(halves) == 1
    results = []
    for part, pixels in enumerate(halves, 1 if len(halves) > 1 else 0):
        cleaned = clean_page(pixels, loaded.dpi, profile, debug_dir=_debug_dir(task, part))
        result = _read_page(task, profile, cleaned, loaded, part, pixels_are_the_file)
        whole_scan_share = whole_scan_seconds / len(halves)  # made positive, flattened, its profile chosen, split
        results.append(replace(result, steps=whole_scan_steps + result.steps,
                               cleanup_seconds=result.cleanup_seconds + whole_scan_share,
                               cleanup_step_seconds=(("whole_scan", whole_scan_share), *result.cleanup_step_seconds)))
    if len(results) == 2 and all(result.turn == 180 for result in results):
        # A spread scanned upside down: its right half, turned upright, is the left page. Parts are the pages'
        # reading order, as reading one again (api.reocr_page) takes them.
        results = [replace(results[1], part=1), replace(results[0], part=2)]
    # Each page's turn from the scan as it is (a spread lying on its side was turned a quarter to be cut).
    results = [replace(result, scan_page=task.number, turn=(result.turn + spread_turn) % 360) for result in results]
    if doubt := file_doubt(task):
        results = [replace(result, file_doubt=doubt, needs_review=True) for result in results]
    return replace(results[0], more=tuple(results[1:]))


def file_doubt(task: PageTask) -> str:
    """What is wrong with the page's file though it decoded, for its reviewer; "" when nothing is. A JPEG whose
    coded data libjpeg left unread before its end (`jpeg_data_left_over`): one bit flipped in a 500 KB scan left
    two thirds of its page grey, and it was archived as a good page, its text a third of what it was."""
    if task.format != "jpeg":
        return ""
    left_over = jpeg_data_left_over(task.source.read_bytes())
    return (f"its JPEG data ends {left_over} bytes before the file does: parts of the page may be grey or "
            "smeared (a damaged file), compare it with the paper") if left_over else ""


def _debug_dir(task: PageTask, part: int) -> Path | None:
    """Where the page's cleanup images go (`retrodig ocr --debug-dir`): a folder per half of a split spread."""
    return task.debug_dir / f"part-{part}" if task.debug_dir and part else task.debug_dir


def unsure_lines_json(result: PageResult) -> list[dict]:
    """The page's unsure lines as document.json and `retrodig ocr --json` give them: the hOCR line's id, its box
    in the pixels of the image Tesseract read, and what Tesseract made of it."""
    return [{"id": line.id, "bbox": list(line.bbox), "text": line.text} for line in result.unsure_lines]


def unread_writing_json(result: PageResult) -> list[list[int]]:
    """The places with writing left unread as document.json and `retrodig ocr --json` give them: boxes (left,
    top, right, bottom) in the pixels of the image Tesseract read, like the hOCR's."""
    return [list(box) for box in result.unread_writing]


def all_pages(result: PageResult) -> list[PageResult]:
    """The pages one task produced, in reading order (two for a split spread)."""
    return [replace(result, more=()), *result.more]


def renumbered(pages: list[PageResult]) -> list[PageResult]:
    """A document's pages in reading order (scan by scan, left before right), numbered 1, 2, ..."""
    ordered = sorted(pages, key=lambda page: (page.scan_page or page.number, page.part))
    return [replace(page, number=number, text=replace(page.text, number=number))
            for number, page in enumerate(ordered, 1)]


def _read_page(task: PageTask, profile: CleanProfile, cleaned: CleanedPage, loaded: LoadedPage,
               part: int, pixels_are_the_file: bool) -> PageResult:
    stem = task.work_dir / (f"{task.number:04d}" + (f"-{part}" if part else ""))
    height, width = cleaned.access.shape[:2]
    (left, top, right, bottom), placement = shown_part(
        width, height, Placement(cleaned.skew_angle, cleaned.crop_box, cleaned.paper))
    access = write_access_image(cleaned.access[top:bottom, left:right], loaded.dpi, loaded.bilevel, stem,
                                task.jpeg_quality)
    ocr_dpi = tesseract_dpi(cleaned, loaded.dpi)
    as_scanned = cleaned.as_scanned and pixels_are_the_file
    if as_scanned:
        # Nothing to improve: Tesseract reads the scan file itself, exactly as `tesseract FILE` would (the
        # file's own dpi tag included), so a clean scan is read no worse than by Tesseract alone.
        ocr_image = task.source
    else:
        ocr_image = tesseract.write_image(cleaned.ocr, stem.with_name(stem.name + "_ocr"))  # Tesseract is told its dpi
    started = time.perf_counter()
    languages = task.languages
    if languages == AUTO_LANGUAGE:
        languages = detect_page_languages(cleaned.ocr, ocr_dpi, task.work_dir, task.tesseract_timeout)

    def read(with_languages: str, out_base: Path, pixels: np.ndarray | None = None,
             psm: int | None = None) -> tuple[OcrOutput, bool]:
        """Read the OCR image, or `pixels` in its place (written for Tesseract, then removed); with `psm`, in
        that page segmentation mode and only once."""
        reread_if_unread = profile.quality.reread_if_unread if psm is None else None
        if pixels is None:
            return read_whole_page(ocr_image, cleaned.ocr, out_base, with_languages, task.number, ocr_dpi,
                                   task.tesseract_timeout, reread_if_unread, tell_dpi=not as_scanned, psm=psm)
        image = tesseract.write_image(pixels, out_base.with_name(out_base.name + "_ocr"))
        try:
            return read_whole_page(image, pixels, out_base, with_languages, task.number, ocr_dpi,
                                   task.tesseract_timeout, reread_if_unread, psm=psm)
        finally:
            image.unlink()

    result, languages, quality, how_read = _best_reading(read, languages, stem, profile, cleaned,
                                                         _debug_dir(task, part))
    ocr_seconds = time.perf_counter() - started
    # Looking for writing left unread (10-35 ms) is not counted as OCR time: it is also handwritten-mixed's review
    # check. Reading the print found there is.
    unread = _places_left_unread(cleaned, result, profile)
    started = time.perf_counter()
    joined = _with_skipped_print(read, languages, stem, cleaned, result, unread, profile)
    ocr_seconds += time.perf_counter() - started
    if joined is not None:
        result, quality, how_read = joined, page_quality(joined.page), how_read + ("read_skipped_print",)
    if not profile.quality.flag_unread_writing:
        unread = ()  # looked for only to read the print among them
    elif joined is not None:
        unread = _places_left_unread(cleaned, result, profile)  # what the print joined left unread
    if cleaned.text_turn:
        started = time.perf_counter()
        unread = turn_boxes(unread, cleaned.text_turn, (result.page.width, result.page.height))
        result = turn_reading(result, cleaned.text_turn)
        ocr_seconds += time.perf_counter() - started
    if not as_scanned:
        ocr_image.unlink()
    how_read = (("read_as_scanned",) if as_scanned else ()) + how_read
    unsure = _lines_read_unsurely(result, profile)
    return PageResult(
        number=task.number,
        access_image=access,
        hocr=result.hocr,
        text_pdf=result.text_pdf,
        text=result.page,
        skew_angle=cleaned.skew_angle,
        placement=placement,
        steps=cleaned.steps + how_read,
        turn=cleaned.turn,
        languages=languages,
        quality=quality,
        needs_review=needs_review(quality, profile.quality.review_below) or bool(unsure) or bool(unread),
        unsure_lines=unsure,
        unread_writing=unread,
        profile=profile.name,
        part=part,
        cleanup_seconds=cleaned.seconds,
        cleanup_step_seconds=cleaned.timings,
        ocr_seconds=ocr_seconds,
    )


def _best_reading(read: Callable[..., tuple[OcrOutput, bool]], languages: str, stem: Path, profile: CleanProfile,
                  cleaned: CleanedPage, debug_dir: Path | None = None) -> tuple[OcrOutput, str, float, tuple[str, ...]]:
    """`read` the page with `languages`; after a poor reading, once more in Fraktur when the page is set in
    Fraktur (stages.fraktur), and once more with the reverse side's text whitened when it shows through
    (stages.show_through). Each second look has its own bar in the profile (None: never). The reading with the
    highest quality is kept. Returns it, its languages, its quality and how it was read. `debug_dir` gets the
    image of a second reading that reads other pixels, numbered after the cleanup's images."""
    result, reread = read(languages, stem)
    quality, steps = page_quality(result.page), ()
    if _read_poorly(quality, profile.quality.fraktur_check_below) \
            and (fraktur := fraktur_reading_languages(languages, cleaned.ocr)):
        second, second_reread = read(fraktur, stem.with_name(stem.name + "-fraktur"))
        if (second_quality := page_quality(second.page)) > quality:
            result, reread, languages, quality, steps = second, second_reread, fraktur, second_quality, \
                ("read_in_fraktur",)
    if _read_poorly(quality, profile.quality.show_through_check_below) \
            and (clearer := without_show_through(cleaned.ocr, profile, cleaned.text_height)) is not None:
        if debug_dir:
            debug_dir.mkdir(parents=True, exist_ok=True)
            Image.fromarray(clearer).save(debug_dir / f"{len(cleaned.steps) + 1:02d}_without_show_through.png")
        third, third_reread = read(languages, stem.with_name(stem.name + "-clearer"), clearer)
        if (third_quality := page_quality(third.page)) > quality:
            result, reread, quality, steps = third, third_reread, third_quality, \
                steps + ("read_without_show_through",)
    return result, languages, quality, steps + _block(reread)


def _lines_read_unsurely(reading: OcrOutput, profile: CleanProfile) -> tuple[Line, ...]:
    """The lines of `reading` too unsure to be print, where the profile asks (stages.quality.unsure_lines)."""
    below = profile.quality.flag_lines_below
    return unsure_lines(reading.lines, below) if below is not None else ()


def _places_left_unread(cleaned: CleanedPage, reading: OcrOutput, profile: CleanProfile) -> tuple[PixelBox, ...]:
    """The places with writing no word of `reading` (of the OCR image, not yet turned) covers, where the
    profile flags them or reads the print among them (stages.unread, stages.skipped_print)."""
    if not profile.quality.flag_unread_writing and profile.quality.read_skipped_print is None:
        return ()
    return writing_left_unread(cleaned.ocr, reading.page.words)


def _with_skipped_print(read: Callable[..., tuple[OcrOutput, bool]], languages: str, stem: Path,
                        cleaned: CleanedPage, reading: OcrOutput, places: tuple[PixelBox, ...],
                        profile: CleanProfile) -> OcrOutput | None:
    """`reading` joined by the print read among the `places` with writing left unread, where the profile asks
    (stages.skipped_print); None when it does not, or when they hold no print."""
    surely = profile.quality.read_skipped_print
    if surely is None or not places:
        return None

    def read_places(pixels: np.ndarray, suffix: str, psm: int) -> OcrOutput:
        return read(languages, stem.with_name(stem.name + suffix), pixels, psm)[0]

    return read_skipped_print(reading, cleaned.ocr, places, read_places, surely)


def _read_poorly(quality: float, check_below: float | None) -> bool:
    return check_below is not None and quality < check_below


def _block(reread: bool) -> tuple[str, ...]:
    return ("reread_as_one_block",) if reread else ()


def tesseract_dpi(cleaned: CleanedPage, dpi: int) -> int:
    """The resolution Tesseract is told. Tesseract sizes its noise and layout thresholds by it, and a wrong
    tag (72 dpi on a 150 dpi photo) can make it drop whole paragraphs as "not text". When the letters were
    measured (and brought to the size of 10-12 pt type at 300 dpi where they were far off), 300 dpi is what
    the OCR image shows. The text layer's physical size then differs from the access image's; the renderer
    fits it onto the page (pikepdf's overlay scales to the page box).
    """
    if cleaned.text_height:
        return NORMALIZED_DPI
    return max(1, round(dpi * cleaned.ocr_scale))


def write_access_image(pixels: np.ndarray, dpi: int, bilevel: bool, stem: Path, quality: int) -> Path:
    """The copy people look at: lossless 1-bit for black-and-white scans, JPEG for grey and colour.

    1-bit pages are CCITT Group 4 TIFFs, which img2pdf puts into the PDF as they are (CCITTFaxDecode):
    about a third smaller than the same page as PNG (Flate), and no re-encoding."""
    if bilevel:
        path = stem.with_name(stem.name + "_access.tif")
        # The scan's own 0s and 255s (it is never resampled): made sure of, so that Pillow never dithers.
        black_white = np.where(pixels >= 128, 255, 0).astype(np.uint8)
        Image.fromarray(black_white).convert("1", dither=Image.Dither.NONE).save(
            path, dpi=(dpi, dpi), compression="group4")
    else:
        path = stem.with_name(stem.name + "_access.jpg")
        Image.fromarray(pixels).save(path, dpi=(dpi, dpi), quality=quality, optimize=True)
    return path
