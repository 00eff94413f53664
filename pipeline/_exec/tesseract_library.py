"""Tesseract's own library, called in-process, so a language model is loaded once per process, not per page.

The `tesseract` program loads its models on every run: 0.12-0.2 s of CPU per page before it reads a word, about
5 % of a batch. This module keeps one loaded `TessBaseAPI` per language set (a few per worker thread) and runs
it exactly as the program does (`ProcessPages` with the hOCR, text and text-only PDF renderers), so the files it
writes are the program's, byte for byte (tests/test_tesseract_library.py compares them).

Why ctypes on Debian's `libtesseract.so.5` and not tesserocr: tesserocr's wheels bundle a Tesseract and a
Leptonica of their own (5.5, where Debian ships 5.3 with its language packs and the `tesseract` program used for
the language list and as the benchmarks' baseline), and building it against Debian's library needs a C++ toolchain and
headers on every machine. The dozen functions used here are Tesseract's stable C API (`tesseract/capi.h`).
Orientation and script detection run here too (`Engine.detect_orientation`, `detect_script`): the program
spent ~0.5 s a call loading its "osd" data, more than the detection itself on the small copy it is given.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ..errors import MissingDependencyError, OcrFailedError

OEM_DEFAULT = 3  # TessOcrEngineMode: what the traineddata holds (LSTM for Debian's packs)
PSM_AUTO = 3  # TessPageSegMode: what the `tesseract` program uses unless told otherwise
LEPTONICA_SILENT = 6  # L_SEVERITY_NONE: in-process, Leptonica would write on the user's terminal
ENGINES_PER_THREAD = 3  # language sets kept loaded (`--lang auto` uses a first-reading set and the page's own)

_RENDERERS = {"hocr": "TessHOcrRendererCreate", "txt": "TessTextRendererCreate"}


def _open(*names: str) -> ctypes.CDLL:
    """The first of `names` (sonames, then short names for `find_library`) that loads. Sonames first:
    `find_library` runs `ldconfig -p`, one more process in every worker."""
    for name in names:
        path = name if ".so" in name else ctypes.util.find_library(name)
        if path:
            try:
                return ctypes.CDLL(path)
            except OSError:
                continue
    raise OSError(f"none of {', '.join(names)} found")


@functools.cache
def _library() -> ctypes.CDLL:
    # Tesseract's OpenMP threads fight our own page parallelism (a page ran 5x slower on 2 cores); libgomp reads
    # the limit once, when it is loaded, which is here.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        lib = _open("libtesseract.so.5", "tesseract")
    except OSError as exc:
        raise MissingDependencyError(
            f"Tesseract's library is not installed ({exc}; Debian: apt-get install tesseract-ocr)"
        ) from exc
    handle, text = ctypes.c_void_p, ctypes.c_char_p
    signatures = {
        "TessBaseAPICreate": ([], handle),
        "TessBaseAPIDelete": ([handle], None),
        "TessBaseAPIEnd": ([handle], None),
        "TessBaseAPIInit1": ([handle, text, text, ctypes.c_int, ctypes.POINTER(text), ctypes.c_int], ctypes.c_int),
        "TessBaseAPISetVariable": ([handle, text, text], ctypes.c_int),
        "TessBaseAPISetPageSegMode": ([handle, ctypes.c_int], None),
        "TessBaseAPIGetDatapath": ([handle], text),
        "TessBaseAPIProcessPages": ([handle, text, text, ctypes.c_int, handle], ctypes.c_int),
        "TessBaseAPISetImage": ([handle, ctypes.c_void_p] + [ctypes.c_int] * 4, None),
        "TessBaseAPIDetectOrientationScript": (
            [handle, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_float), ctypes.POINTER(text),
             ctypes.POINTER(ctypes.c_float)], ctypes.c_int),
        "TessBaseAPIClear": ([handle], None),
        "TessHOcrRendererCreate": ([text], handle),
        "TessTextRendererCreate": ([text], handle),
        "TessPDFRendererCreate": ([text, text, ctypes.c_int], handle),
        "TessResultRendererInsert": ([handle, handle], None),
        "TessDeleteResultRenderer": ([handle], None),
    }
    for name, (arguments, result) in signatures.items():
        function = getattr(lib, name)
        function.argtypes, function.restype = arguments, result
    try:
        _open("liblept.so.5", "libleptonica.so.6", "lept", "leptonica").setMsgSeverity(LEPTONICA_SILENT)
    except OSError:
        pass  # only its messages are not silenced
    return lib


class Engine:
    """One loaded Tesseract for one language set ("deu+eng"). Not thread-safe: use `engine_for`."""

    def __init__(self, languages: str):
        self.languages = languages
        self._api = None
        self._lib = _library()
        self._api = self._lib.TessBaseAPICreate()
        # Tesseract's progress notes ("Estimating resolution as ...") go nowhere, as the program's stderr did.
        self._lib.TessBaseAPISetVariable(self._api, b"debug_file", b"/dev/null")
        if self._lib.TessBaseAPIInit1(self._api, None, languages.encode(), OEM_DEFAULT, None, 0) != 0:
            self.close()
            raise MissingDependencyError(
                f"Tesseract could not load the language data for {languages!r} (Debian: apt-get install "
                "tesseract-ocr-<lang>)"
            )
        self._datapath = self._lib.TessBaseAPIGetDatapath(self._api)

    def process(self, image: Path, out_base: Path, outputs: tuple[str, ...], timeout: float,
                dpi: int | None = None, psm: int | None = None) -> dict[str, Path]:
        """Read `image` once and write `out_base` + ".hocr" / ".txt" / ".pdf" (a text-only PDF layer) for each
        of `outputs`, as `tesseract IMAGE OUT_BASE [--dpi D] [--psm P] -c textonly_pdf=1 hocr txt pdf` does.
        `timeout` bounds recognition (Tesseract's own deadline)."""
        if not image.is_file():
            raise OcrFailedError(image, "the page image to read is missing")
        lib, api = self._lib, self._api
        # Settings are per engine and outlive a page: set every one each time.
        lib.TessBaseAPISetVariable(api, b"user_defined_dpi", str(dpi or 0).encode())
        lib.TessBaseAPISetPageSegMode(api, psm if psm is not None else PSM_AUTO)
        renderer = self._renderers(out_base, outputs)
        started = time.monotonic()
        try:
            done = lib.TessBaseAPIProcessPages(api, os.fsencode(image), None, _milliseconds(timeout), renderer)
        finally:
            lib.TessDeleteResultRenderer(renderer)  # closes the output files
        files = {kind: out_base.with_name(f"{out_base.name}.{kind}") for kind in outputs}
        if not done or not all(path.exists() for path in files.values()):
            if time.monotonic() - started >= timeout:
                raise OcrFailedError(image, f"Tesseract took longer than {timeout:.0f} s")
            raise OcrFailedError(image, "Tesseract could not read the page image")
        return files

    def detect_orientation(self, pixels: np.ndarray) -> tuple[int, float] | None:
        """Orientation detection (an engine loaded with "osd"), as `tesseract IMAGE - --psm 0` reports it for
        the same pixels: (degrees counter-clockwise to turn the page upright, confidence), or None when there
        is too little text. `pixels`: uint8 grey or black and white, HxW. No deadline: Tesseract has none for
        it, and it only reads letter shapes (under a second on the small copies it is given)."""
        found = self._detect_orientation_script(pixels)
        return (found[0], found[1]) if found else None

    def detect_script(self, pixels: np.ndarray) -> tuple[str, float] | None:
        """The script the same detector names ("Latin", "Fraktur", "Cyrillic", ...) and its confidence, as
        `tesseract IMAGE - --psm 0` reports them; None when there is too little text."""
        found = self._detect_orientation_script(pixels)
        return (found[2], found[3]) if found else None

    def _detect_orientation_script(self, pixels: np.ndarray) -> tuple[int, float, str, float] | None:
        pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
        if pixels.ndim != 2 or 0 in pixels.shape:
            raise ValueError(f"expected a grey HxW image, got shape {pixels.shape}")
        lib, api = self._lib, self._api
        # Tesseract copies the pixels into its own image here; `pixels` only has to live through the call.
        lib.TessBaseAPISetImage(api, pixels.ctypes.data, pixels.shape[1], pixels.shape[0], 1, pixels.strides[0])
        degrees, confidence = ctypes.c_int(), ctypes.c_float()
        script, script_confidence = ctypes.c_char_p(), ctypes.c_float()
        try:
            found = lib.TessBaseAPIDetectOrientationScript(api, ctypes.byref(degrees), ctypes.byref(confidence),
                                                           ctypes.byref(script), ctypes.byref(script_confidence))
            name = (script.value or b"").decode("ascii", "replace")  # Tesseract's own static string
        finally:
            lib.TessBaseAPIClear(api)  # drop the image and what was found on it
        if not found:
            return None
        return degrees.value % 360, float(confidence.value), name, float(script_confidence.value)

    def _renderers(self, out_base: Path, outputs: tuple[str, ...]) -> int:
        base = os.fsencode(out_base)
        chain = []
        for kind in outputs:
            if kind == "pdf":
                chain.append(self._lib.TessPDFRendererCreate(base, self._datapath, 1))
            else:
                chain.append(getattr(self._lib, _RENDERERS[kind])(base))
        if not all(chain):
            for renderer in filter(None, chain):
                self._lib.TessDeleteResultRenderer(renderer)
            raise OcrFailedError(out_base, "Tesseract could not create its output files")
        for renderer in chain[1:]:
            self._lib.TessResultRendererInsert(chain[0], renderer)  # the first one owns the rest
        return chain[0]

    def close(self) -> None:
        if self._api:
            self._lib.TessBaseAPIEnd(self._api)
            self._lib.TessBaseAPIDelete(self._api)
            self._api = None

    def __del__(self) -> None:
        self.close()


def _milliseconds(seconds: float) -> int:
    return max(1, min(round(seconds * 1000), 2**31 - 1))  # a C int; 0 would mean no limit at all


_loaded = threading.local()


def engine_for(languages: str) -> Engine:
    """This thread's engine for `languages`, loaded on first use; the least recently used beyond
    ENGINES_PER_THREAD is closed (each holds its models in memory, tens of MB per language)."""
    engines: OrderedDict[str, Engine] = _loaded.__dict__.setdefault("engines", OrderedDict())
    if languages in engines:
        engines.move_to_end(languages)
    else:
        engines[languages] = Engine(languages)
        while len(engines) > ENGINES_PER_THREAD:
            engines.popitem(last=False)[1].close()
    return engines[languages]


def orientation_engine() -> Engine:
    """This thread's engine for orientation detection (Tesseract's "osd" data), kept apart from the reading
    engines so that it never pushes one of them out."""
    if getattr(_loaded, "orientation", None) is None:
        _loaded.orientation = Engine("osd")
    return _loaded.orientation
